-- Feeds and their entries. Times are Unix milliseconds (UTC); 0 means "never".

CREATE TABLE feeds (
    id                 INTEGER PRIMARY KEY,
    url                TEXT    NOT NULL UNIQUE,
    -- title as the feed gives it, and as the user chose it (which wins)
    title              TEXT    NOT NULL DEFAULT '',
    user_title         TEXT    NOT NULL DEFAULT '',
    site_link          TEXT    NOT NULL DEFAULT '',
    language           TEXT    NOT NULL DEFAULT '',
    -- poll interval chosen by the user (config or CLI); 0 means the default
    interval_ms        INTEGER NOT NULL DEFAULT 0,
    -- poll interval the publisher asks for (ttl, sy:updatePeriod, max-age)
    ttl_ms             INTEGER NOT NULL DEFAULT 0,
    etag               TEXT    NOT NULL DEFAULT '',
    last_modified      TEXT    NOT NULL DEFAULT '',
    last_polled_at     INTEGER NOT NULL DEFAULT 0,
    last_status        INTEGER NOT NULL DEFAULT 0,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT    NOT NULL DEFAULT '',
    next_poll_at       INTEGER NOT NULL DEFAULT 0,
    disabled           INTEGER NOT NULL DEFAULT 0,
    disabled_reason    TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL
);

CREATE INDEX feeds_due ON feeds (next_poll_at) WHERE disabled = 0;

CREATE TABLE entries (
    id            INTEGER PRIMARY KEY,
    feed_id       INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    guid          TEXT    NOT NULL,
    link          TEXT    NOT NULL DEFAULT '',
    title         TEXT    NOT NULL DEFAULT '',
    summary       TEXT    NOT NULL DEFAULT '',
    content       TEXT    NOT NULL DEFAULT '',
    text          TEXT    NOT NULL DEFAULT '',
    author        TEXT    NOT NULL DEFAULT '',
    categories    TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    language      TEXT    NOT NULL DEFAULT '',
    published_at  INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL DEFAULT 0,
    first_seen_at INTEGER NOT NULL,
    -- hash of everything the feed said about the entry: a re-poll that
    -- changes nothing is recognised without comparing every column
    content_hash  BLOB    NOT NULL,
    UNIQUE (feed_id, guid)
);

CREATE INDEX entries_published ON entries (published_at DESC, id DESC);
CREATE INDEX entries_feed_published ON entries (feed_id, published_at DESC);
CREATE INDEX entries_link ON entries (link);
