-- secret: the credentials a feed was subscribed with (userinfo, token
-- query parameters), kept apart from url and added_url, which are shown
-- and served. splitFeedSecrets (store.go) moves them out of the URLs of
-- existing feeds.
ALTER TABLE feeds ADD COLUMN secret TEXT NOT NULL DEFAULT '';
