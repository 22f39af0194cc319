-- A closed topic stays in the clusterer's memory for late stories (stories
-- older than the window, clustered among the storylines of their own time)
-- until the clock is Window + History past the time a story last joined
-- it (cluster.TopicState.Kept). That time is a column so that loading the
-- resident topics is an index range; for a topic saved before it existed
-- it is its latest story's time, as it was.
ALTER TABLE topics ADD COLUMN kept_at INTEGER NOT NULL DEFAULT 0;
UPDATE topics SET kept_at = last_seen_at;
CREATE INDEX topics_kept ON topics (kept_at);
