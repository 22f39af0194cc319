package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/storetest"
)

// TestSearchIndexUpgrade: a database whose full-text index holds the
// entries' own text, as before migration 0012, is indexed again on
// opening, so that its stored Chinese stories become searchable by word,
// and the index stays in step with the entries after it.
func TestSearchIndexUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "past.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	f := addFeed(t, db, "https://past.example/feed")
	if _, err := storetest.SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{
		{ID: "a", Link: "https://past.example/a", Title: "国际会议在北京举行", Published: t0},
		{ID: "b", Link: "https://past.example/b", Title: "Harbour bridge closed", Text: "Storm damage.", Published: t0},
	}}); err != nil {
		t.Fatal(err)
	}
	// The index as migrations 0002 and 0009 left it.
	for _, q := range []string{
		"DROP TRIGGER entries_fts_delete",
		"DROP TRIGGER entries_fts_update",
		"DROP TABLE entries_fts",
		`CREATE VIRTUAL TABLE entries_fts USING fts5 (title, text, content = 'entries', content_rowid = 'id',
			tokenize = 'unicode61 remove_diacritics 2')`,
		`CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
			INSERT INTO entries_fts (entries_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END`,
		`CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, text ON entries BEGIN
			INSERT INTO entries_fts (entries_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
			INSERT INTO entries_fts (rowid, title, text) VALUES (new.id, new.title, new.text); END`,
		"INSERT INTO entries_fts (rowid, title, text) SELECT id, title, text FROM entries",
		"DELETE FROM schema_migrations WHERE version >= 12",
	} {
		if _, err := db.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got, _ := db.Search(ctx, "北京", 0); len(got) != 0 {
		t.Fatalf("the old index found a word inside a Chinese headline: %d", len(got))
	}
	db.Close()

	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	find := func(q string) []string {
		t.Helper()
		got, err := db.Search(ctx, q, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range got {
			ids = append(ids, e.Entry.ID)
		}
		slices.Sort(ids)
		return ids
	}
	if got := find("北京"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("search 北京 after the upgrade: %v, want [a]", got)
	}
	if got := find("harbour storm"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("search harbour storm after the upgrade: %v, want [b]", got)
	}
	if _, err := db.db.Exec("DELETE FROM entries WHERE guid = 'b'"); err != nil {
		t.Fatal(err)
	}
	if got := find("harbour"); len(got) != 0 {
		t.Errorf("a deleted entry is still found: %v", got)
	}
	checkIndexInStep(t, db)
}

// checkIndexInStep fails t unless the full-text index holds exactly the
// stored entries. The index is contentless, so FTS5's integrity check
// cannot compare it with them; its rowids can be.
func checkIndexInStep(t *testing.T, db *DB) {
	t.Helper()
	if _, err := db.db.Exec("INSERT INTO entries_fts (entries_fts, rank) VALUES ('integrity-check', 0)"); err != nil {
		t.Fatalf("full-text index damaged: %v", err)
	}
	var missing, extra int
	if err := db.db.QueryRow(`SELECT
		(SELECT COUNT(*) FROM entries WHERE id NOT IN (SELECT rowid FROM entries_fts)),
		(SELECT COUNT(*) FROM entries_fts WHERE rowid NOT IN (SELECT id FROM entries))`).Scan(&missing, &extra); err != nil {
		t.Fatal(err)
	}
	if missing != 0 || extra != 0 {
		t.Errorf("full-text index out of step: %d entries missing from it, %d rows of it without an entry", missing, extra)
	}
}
