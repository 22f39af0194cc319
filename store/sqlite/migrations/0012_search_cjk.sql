-- Chinese and Japanese text becomes searchable by word. The full-text
-- index no longer reads the entries' own title and text but the form
-- searchtext.Index gives them (each run of those scripts as its
-- character pairs, then its characters), computed by the function
-- storyline_search_text that the program registers on every connection.
-- The index is contentless, and contentless_delete lets a row be removed
-- by its id alone, so that removing entries needs no function. Another
-- SQLite client (the sqlite3 shell) can still read the database and
-- VACUUM it; deleting entries from it takes SQLite 3.43 or later (for
-- contentless_delete), and changing an entry's title or text takes
-- storyline itself (for the function).
DROP TRIGGER entries_fts_delete;
DROP TRIGGER entries_fts_update;
DROP TABLE entries_fts;
CREATE VIRTUAL TABLE entries_fts USING fts5 (
    title, text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO entries_fts (rowid, title, text)
    SELECT id, storyline_search_text(title), storyline_search_text(text) FROM entries;
CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
    DELETE FROM entries_fts WHERE rowid = old.id;
END;
CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, text ON entries BEGIN
    DELETE FROM entries_fts WHERE rowid = old.id;
    INSERT INTO entries_fts (rowid, title, text)
        VALUES (new.id, storyline_search_text(new.title), storyline_search_text(new.text));
END;
