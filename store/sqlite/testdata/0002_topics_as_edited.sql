-- Storylines: topics, which entry belongs to which, and the corpus statistics
-- the clustering needs to continue where it stopped after a restart.

CREATE TABLE topics (
    id            INTEGER PRIMARY KEY, -- assigned by the clusterer, not by SQLite
    name          TEXT    NOT NULL DEFAULT '',
    headline      TEXT    NOT NULL DEFAULT '',
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    size          INTEGER NOT NULL DEFAULT 0,
    -- the clusterer's own state of the topic (centroid and the like), JSON
    state         BLOB    NOT NULL
);

CREATE INDEX topics_last_seen ON topics (last_seen_at DESC);

CREATE TABLE topic_entries (
    entry_id INTEGER PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE,
    topic_id INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE
);

CREATE INDEX topic_entries_topic ON topic_entries (topic_id);

-- document frequency of every term the clusterer has seen
CREATE TABLE term_stats (
    term TEXT PRIMARY KEY,
    df   INTEGER NOT NULL
) WITHOUT ROWID;

-- single-row table: corpus-wide counters, and a generation number that every
-- clustering write bumps, so a process notices that another one clustered
-- entries since it loaded its state
CREATE TABLE cluster_meta (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    docs          INTEGER NOT NULL DEFAULT 0,
    last_topic_id INTEGER NOT NULL DEFAULT 0,
    clock         INTEGER NOT NULL DEFAULT 0, -- latest story time clustered
    generation    INTEGER NOT NULL DEFAULT 0,
    -- bumped by every write that changes what is served (entries, topics,
    -- feed titles), so readers can reuse what they rendered before
    data_version  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO cluster_meta (id) VALUES (1);

-- full-text search over entries, kept in step by triggers
CREATE VIRTUAL TABLE entries_fts USING fts5 (
    title, text, content = 'entries', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, text ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO entries_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
