package postgres

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
	"github.com/storyline/storyline/store/storetest"
)

// TestMigrateFromSQLite copies a SQLite install to PostgreSQL and back
// (the conformance suite copies between databases of one backend).
func TestMigrateFromSQLite(t *testing.T) {
	openSQLite := func(t *testing.T, now func() time.Time) storetest.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatal(err)
		}
		db.Now = now
		t.Cleanup(func() { db.Close() })
		return db
	}
	storetest.RunMigrate(t, openSQLite, func(t *testing.T, now func() time.Time) storetest.Store { return openTest(t, now) })
}

// TestMigrateCleansOldText: a SQLite install from before the parser
// dropped NULs and invalid UTF-8 holds text PostgreSQL refuses; the copy
// cleans it as the parser now does, rather than fail.
func TestMigrateCleansOldText(t *testing.T) {
	ctx := context.Background()
	src, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f, err := src.AddFeed(ctx, store.NewFeed{URL: "https://a.example/feed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.SavePoll(ctx, src, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Title: "Old\x00 feed",
		Entries: []feeds.Entry{{ID: "1", Title: "Harbour\x00 bridge", Text: "bad \xff bytes", Categories: []string{"a\x00"}, Published: t0}}}); err != nil {
		t.Fatal(err)
	}
	dst := openTest(t, time.Now)
	if _, err := storetest.Copy(ctx, src, dst); err != nil {
		t.Fatalf("copy: %v", err)
	}
	es, err := dst.Entries(ctx, store.EntryQuery{})
	if err != nil || len(es) != 1 || es[0].Entry.Title != "Harbour bridge" || es[0].Entry.Text != "bad \uFFFD bytes" {
		t.Errorf("copied %+v, %v", es, err)
	}
}
