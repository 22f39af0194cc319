-- added_url: the URL a feed was subscribed with. A permanent redirect
-- changes url; a feed listed in the configuration is still recognised by
-- the URL written there, instead of being subscribed a second time.
ALTER TABLE feeds ADD COLUMN added_url TEXT NOT NULL DEFAULT '';
UPDATE feeds SET added_url = url;
CREATE INDEX feeds_added_url ON feeds (added_url);

-- when data_version last moved: the Last-Modified of everything served
ALTER TABLE cluster_meta ADD COLUMN data_changed_at INTEGER NOT NULL DEFAULT 0;
