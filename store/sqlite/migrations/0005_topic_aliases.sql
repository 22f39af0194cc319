-- Topic IDs that no longer name a topic of their own, and the topic their
-- stories are in now: a topic merged into an older one, or every topic of
-- a clustering that `storyline recluster` replaced. A reader subscribed to
-- /topics/ID.atom is sent on (301) instead of losing the storyline.
-- Aliases always point at a live topic (merges re-point them), and go with
-- it when it is deleted.
CREATE TABLE topic_aliases (
    id       INTEGER PRIMARY KEY,
    topic_id INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE
);

CREATE INDEX topic_aliases_topic ON topic_aliases (topic_id);
