package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/dataversion"
	"github.com/storyline/storyline/store/postgres/pgtest"
	"github.com/storyline/storyline/store/storetest"
)

// Instances started together migrate a new database once; OpenExisting
// refuses a database without the schema, and every opener one migrated by
// a newer storyline.
func TestOpenMigrations(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	if _, err := OpenExisting(ctx, dsn); err == nil || !errors.Is(err, store.ErrNoDatabase) {
		t.Fatalf("OpenExisting of an empty database: %v", err)
	}
	var wg sync.WaitGroup
	dbs := make([]*DB, 4)
	for i := range dbs {
		wg.Go(func() {
			db, err := Open(ctx, dsn)
			if err != nil {
				t.Error(err)
				return
			}
			dbs[i] = db
		})
	}
	wg.Wait()
	for _, db := range dbs {
		if db != nil {
			defer db.Close()
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	ms, _ := loadMigrations()
	var n int
	if err := dbs[0].pool.QueryRow(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("recorded %d migrations, %v; want %d", n, err, len(ms))
	}
	db, err := OpenExisting(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if res, err := dbs[0].IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Errorf("integrity check = %q, %v", res, err)
	}
	if _, err := dbs[0].pool.Exec(ctx, "INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dsn); !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "999") {
		t.Errorf("opening a newer schema: %v, want ErrSchemaTooNew naming the version", err)
	}
}

// A DSN's password never appears in an error.
func TestOpenErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Port 1 on the loopback refuses at once.
	_, err := Open(ctx, "postgres://storyline:hunter2@127.0.0.1:1/news?sslmode=disable")
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), `"news"`) {
		t.Errorf("error %v: want one naming the database, without the password", err)
	}
}

// Backup refuses, pointing at pg_dump; ReclaimSpace has nothing to do.
func TestBackupAndReclaim(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, time.Now)
	if err := db.Backup(ctx, t.TempDir()+"/b.db"); !errors.Is(err, ErrBackupUnsupported) || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("Backup = %v, want ErrBackupUnsupported naming pg_dump", err)
	}
	if n, err := db.ReclaimSpace(ctx); n != 0 || err != nil {
		t.Errorf("ReclaimSpace = %d, %v", n, err)
	}
}

// Search finds the other forms of a word in the entry's language, and
// words as they are in a language PostgreSQL has no stemmer for.
func TestSearchLanguages(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, func() time.Time { return t0 })
	f, _ := db.AddFeed(ctx, store.NewFeed{URL: "https://a.example/feed"})
	if _, err := storetest.SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{
		{ID: "de", Title: "Die Brücken der Stadt werden gesperrt", Language: "de-CH", Published: t0},
		{ID: "fr", Title: "Les ponts de la ville sont fermés", Language: "fr", Published: t0},
		{ID: "xx", Title: "Kilimo cha mahindi", Language: "sw", Published: t0},
		{ID: "en", Title: "Bridges closed", Language: "en", Published: t0},
	}}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"Brücke": "de", "pont": "fr", "mahindi": "xx", "bridge": "en"} {
		got, err := db.Search(ctx, q, 0)
		if err != nil || len(got) != 1 || got[0].Entry.ID != want {
			t.Errorf("search %q = %+v, %v; want entry %s", q, got, err, want)
		}
	}
}

// Another instance's writes show in DataVersion within dataversion.TTL;
// this instance's own at once, without a query.
func TestDataVersionInstances(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	a, b := dbs[0], dbs[1]
	now := t0
	a.Now = func() time.Time { return now }
	f, _ := b.AddFeed(ctx, store.NewFeed{URL: "https://a.example/feed"})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	v0, err := a.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	poll := func(db *DB, n string) {
		t.Helper()
		if _, err := storetest.SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200,
			Entries: []feeds.Entry{{ID: n, Title: "Story " + n, Published: t0}}}); err != nil {
			t.Fatal(err)
		}
	}
	poll(a, "1")
	v1, err := a.DataVersion(cancelled)
	if err != nil || v1.Version <= v0.Version {
		t.Fatalf("after our write: %+v, %v; want newer than %d, from memory", v1, err, v0.Version)
	}
	poll(b, "2")
	now = now.Add(dataversion.TTL / 2)
	if v, err := a.DataVersion(cancelled); err != nil || v != v1 {
		t.Errorf("within the TTL: %+v, %v; want %+v", v, err, v1)
	}
	now = now.Add(dataversion.TTL / 2)
	if v, err := a.DataVersion(ctx); err != nil || v.Version <= v1.Version {
		t.Errorf("after the TTL: %+v, %v; want newer than %d", v, err, v1.Version)
	}
	if va, _ := a.DataVersion(ctx); va != mustVersion(t, b) {
		t.Errorf("instances disagree: %+v and %+v", va, mustVersion(t, b))
	}
}

func mustVersion(t *testing.T, db *DB) store.DataVersion {
	t.Helper()
	v, err := db.DataVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}
