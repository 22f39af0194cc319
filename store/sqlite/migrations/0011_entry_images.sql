-- image: the story's picture as the feed gives it (feeds.Entry.Image), an
-- absolute URL that storyline links to and never fetches. Entries stored
-- before take theirs at their next poll (see entryHash).
ALTER TABLE entries ADD COLUMN image TEXT NOT NULL DEFAULT '';
