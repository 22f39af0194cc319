package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	db.Now = func() time.Time { return now }
	t.Cleanup(func() { db.Close() })
	return db
}

func addFeed(t *testing.T, db *DB, url string) store.Feed {
	t.Helper()
	f, err := db.AddFeed(context.Background(), store.NewFeed{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOpenRecordsMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	ms, _ := loadMigrations()
	if n != len(ms) {
		t.Errorf("recorded %d migrations, have %d", n, len(ms))
	}
	var mode string
	if err := db.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := db.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	// Pretend a newer binary migrated the file further.
	if _, err := db.db.Exec("INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, path)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("opening a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "999") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q should name the path and the version", err)
	}
	// Reopening with the same schema is a no-op.
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := writeFile(path, strings.Repeat("this is not sqlite\n", 300)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open(junk) = %v, want an error naming the file", err)
	}
}

func TestAddRemoveFeed(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := addFeed(t, db, "https://a.example/feed")
	if f.ID == 0 || !f.NextPollAt.Equal(t0) {
		t.Fatalf("new feed = %+v; want an ID and due now", f)
	}
	if _, err := db.AddFeed(ctx, store.NewFeed{URL: "https://a.example/feed"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second add: %v, want ErrExists", err)
	}
	if _, err := savePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, NextPollAt: t0.Add(time.Hour),
		Entries: []feeds.Entry{{ID: "1", Title: "One", Published: t0}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := removeFeed(ctx, db, "https://a.example/feed"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Feed(ctx, "1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("feed after remove: %v, want ErrNotFound", err)
	}
	es, _ := db.Entries(ctx, store.EntryQuery{})
	if len(es) != 0 {
		t.Errorf("%d entries left after removing their feed", len(es))
	}
	if _, err := removeFeed(ctx, db, "42"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("remove missing: %v, want ErrNotFound", err)
	}
}

func sampleEntries() []feeds.Entry {
	return []feeds.Entry{
		{ID: "a", Link: "https://a.example/1", Title: "First", Text: "one", Published: t0.Add(-2 * time.Hour), Categories: []string{"x"}},
		{ID: "b", Link: "https://a.example/2", Title: "Second", Text: "two", Published: t0.Add(-time.Hour)},
		{ID: "c", Link: "https://a.example/3", Title: "Undated", Text: "three", Published: t0, Undated: true},
	}
}

func TestSavePollIdempotent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := addFeed(t, db, "https://a.example/feed")
	r := store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, ETag: `"v1"`, NextPollAt: t0.Add(time.Hour), Entries: sampleEntries()}
	st, err := savePoll(ctx, db, r)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 3 || st.Updated != 0 {
		t.Fatalf("first save: %+v, want 3 new", st)
	}
	before, _ := db.Entries(ctx, store.EntryQuery{})

	// The same document, an hour later: the undated entry gets a new
	// made-up time from the parser but must not count as changed.
	r2 := r
	r2.PolledAt = t0.Add(time.Hour)
	r2.Entries = sampleEntries()
	r2.Entries[2].Published = r2.PolledAt
	st, err = savePoll(ctx, db, r2)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 0 || st.Updated != 0 || st.Unchanged != 3 {
		t.Fatalf("re-save: %+v, want 3 unchanged", st)
	}
	after, _ := db.Entries(ctx, store.EntryQuery{})
	if len(after) != len(before) {
		t.Fatalf("rows: %d then %d", len(before), len(after))
	}
	for i := range before {
		if before[i].ID != after[i].ID || !before[i].Entry.Published.Equal(after[i].Entry.Published) {
			t.Errorf("row %d changed: %+v -> %+v", i, before[i], after[i])
		}
	}

	// One entry edited: only that row changes, in place.
	r3 := r2
	r3.Entries = sampleEntries()
	r3.Entries[1].Text = "two, corrected"
	r3.Entries[1].Title = "Second (corrected)"
	st, err = savePoll(ctx, db, r3)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 0 || st.Updated != 1 || st.Unchanged != 2 {
		t.Fatalf("edit: %+v, want 1 updated, 2 unchanged", st)
	}
	edited, _ := db.Entries(ctx, store.EntryQuery{})
	if len(edited) != 3 {
		t.Fatalf("%d rows after edit", len(edited))
	}
	for i := range edited {
		want := before[i].Entry.Title
		if edited[i].Entry.ID == "b" {
			want = "Second (corrected)"
		}
		if edited[i].ID != before[i].ID || edited[i].Entry.Title != want {
			t.Errorf("row %d: id %d title %q, want id %d title %q", i, edited[i].ID, edited[i].Entry.Title, before[i].ID, want)
		}
	}
	got, _ := db.Feed(ctx, "1")
	if got.ETag != `"v1"` || got.LastStatus != 200 || got.EntryCount != 0 {
		// EntryCount is only filled by Feeds.
		t.Errorf("feed after polls: %+v", got)
	}
}

func TestSavePollDuplicateIDsInOneDocument(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := addFeed(t, db, "https://a.example/feed")
	es := []feeds.Entry{{ID: "x", Title: "old", Published: t0}, {ID: "x", Title: "new", Published: t0}}
	st, err := savePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: es})
	if err != nil || st.New != 1 {
		t.Fatalf("save = %+v, %v; want 1 new", st, err)
	}
	got, _ := db.Entries(ctx, store.EntryQuery{})
	if len(got) != 1 || got[0].Entry.Title != "new" {
		t.Errorf("entries = %+v", got)
	}
}

func TestSavePollFeedState(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := addFeed(t, db, "http://a.example/old")
	other := addFeed(t, db, "http://a.example/taken")

	// A permanent redirect moves the feed.
	if _, err := savePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, NewURL: "https://a.example/new", NextPollAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Feed(ctx, "1"); got.URL != "https://a.example/new" {
		t.Errorf("URL after permanent redirect = %q", got.URL)
	}
	// ...unless another subscription has that URL already.
	st, err := savePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, NewURL: other.URL})
	if err != nil || !st.URLConflict {
		t.Fatalf("redirect onto a taken URL: %+v, %v", st, err)
	}
	// Errors are recorded and disable with a reason.
	if _, err := savePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 410, Err: "gone", Errors: 1,
		DisableReason: "410 Gone", NextPollAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Feed(ctx, "1")
	if !got.Disabled || got.DisabledReason != "410 Gone" || got.Errors != 1 || got.LastError != "gone" || got.LastStatus != 410 {
		t.Errorf("feed after 410: %+v", got)
	}
	due, _ := db.DueFeeds(ctx, t0.Add(48*time.Hour), false)
	for _, d := range due {
		if d.ID == f.ID {
			t.Error("a disabled feed is due")
		}
	}
}

func TestDataVersion(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := addFeed(t, db, "https://a.example/feed")
	v0, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Title: "A", Entries: sampleEntries()}
	savePoll(ctx, db, r)
	v1, _ := db.DataVersion(ctx)
	if v1.Version == v0.Version || !v1.Changed.Equal(t0) {
		t.Fatal("new entries did not change the data version")
	}
	// The same document again, or a 304, changes nothing a reader sees.
	savePoll(ctx, db, r)
	savePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 304, NotModified: true})
	if v2, _ := db.DataVersion(ctx); v2.Version != v1.Version {
		t.Errorf("unchanged polls moved the data version %d -> %d", v1.Version, v2.Version)
	}
	r.Title = "A, renamed"
	savePoll(ctx, db, r)
	v3, _ := db.DataVersion(ctx)
	if v3.Version == v1.Version {
		t.Error("a new feed title did not change the data version")
	}
	removeFeed(ctx, db, "1")
	if v4, _ := db.DataVersion(ctx); v4.Version == v3.Version {
		t.Error("removing a feed did not change the data version")
	}
}

// A feed that moved with a permanent redirect is still the feed subscribed
// with its old URL: adding that URL again (as the config does on every
// start) must not subscribe it twice.
func TestAddFeedAfterRedirect(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := addFeed(t, db, "http://a.example/old")
	if _, err := savePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, NewURL: "https://a.example/new"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.AddFeed(ctx, store.NewFeed{URL: "http://a.example/old"})
	if !errors.Is(err, store.ErrExists) || got.ID != f.ID || got.URL != "https://a.example/new" {
		t.Fatalf("re-adding the old URL: %+v, %v", got, err)
	}
	if fl, _ := db.Feeds(ctx); len(fl) != 1 {
		t.Errorf("%d feeds", len(fl))
	}
}

// A feed removed while it was being polled is skipped; the other results
// of the batch are saved.
func TestSavePollsFeedRemoved(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	a := addFeed(t, db, "https://a.example/feed")
	b := addFeed(t, db, "https://b.example/feed")
	if _, err := removeFeed(ctx, db, fmt.Sprint(a.ID)); err != nil {
		t.Fatal(err)
	}
	st, err := savePolls(ctx, db, []store.PollResult{
		{FeedID: a.ID, PolledAt: t0, Status: 200, Entries: sampleEntries()},
		{FeedID: b.ID, PolledAt: t0, Status: 200, Entries: sampleEntries()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !st[0].FeedGone || st[1].New != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestSyncFeeds(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	cfg := []store.NewFeed{{URL: "http://a.example/old", Title: "A"}, {URL: "https://b.example/feed", Interval: time.Hour}}
	if n, err := db.SyncFeeds(ctx, cfg); err != nil || n != 2 {
		t.Fatalf("first sync: %d, %v", n, err)
	}
	// The first feed moves (301); the config still names the old URL.
	if _, err := savePoll(ctx, db, store.PollResult{FeedID: 1, PolledAt: t0, Status: 200, NewURL: "https://a.example/new"}); err != nil {
		t.Fatal(err)
	}
	v0, _ := db.DataVersion(ctx)
	if n, err := db.SyncFeeds(ctx, cfg); err != nil || n != 0 {
		t.Fatalf("unchanged sync: %d, %v", n, err)
	}
	if v, _ := db.DataVersion(ctx); v.Version != v0.Version {
		t.Error("an unchanged sync wrote")
	}
	cfg[1].Title = "B, renamed"
	if n, err := db.SyncFeeds(ctx, cfg); err != nil || n != 0 {
		t.Fatalf("rename: %d, %v", n, err)
	}
	fl, _ := db.Feeds(ctx)
	if len(fl) != 2 || fl[0].URL != "https://a.example/new" || fl[1].Title != "B, renamed" || fl[1].Interval != time.Hour {
		t.Errorf("feeds after sync: %+v", fl)
	}
	if v, _ := db.DataVersion(ctx); v.Version == v0.Version {
		t.Error("a renamed feed did not change the data version")
	}
}

// TestTopicsSchemaFromEitherPast: migration 0002 was edited after the first
// skeleton shipped it. A database made by the skeleton (0002 as shipped)
// and one made since (0002 as edited, then 0003-0005) both open, end with
// the columns of a new database, keep their counters, and cluster.
func TestTopicsSchemaFromEitherPast(t *testing.T) {
	ctx := context.Background()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	edited, err := os.ReadFile(filepath.Join("testdata", "0002_topics_as_edited.sql"))
	if err != nil {
		t.Fatal(err)
	}
	columns := func(db *sql.DB) map[string][]string {
		t.Helper()
		out := map[string][]string{}
		for _, table := range []string{"topics", "cluster_meta"} {
			rows, err := db.QueryContext(ctx, "SELECT name FROM pragma_table_info(?) ORDER BY name", table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name string
				rows.Scan(&name)
				out[table] = append(out[table], name)
			}
			rows.Close()
		}
		return out
	}
	fresh := openTest(t)
	want := columns(fresh.db)

	for _, past := range []struct {
		name    string
		applied []string // SQL of migrations 1..n as that past applied them
	}{
		{"skeleton", []string{ms[0].sql, ms[1].sql}},
		{"edited", []string{ms[0].sql, string(edited), ms[2].sql, ms[3].sql, ms[4].sql}},
	} {
		t.Run(past.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "past.db")
			dsn, _ := dataSourceName(path)
			raw, err := sql.Open("sqlite", dsn)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,
				name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			for i, q := range past.applied {
				if _, err := raw.Exec(q); err != nil {
					t.Fatalf("migration %d: %v", i+1, err)
				}
				raw.Exec("INSERT INTO schema_migrations VALUES (?, ?, 0)", i+1, ms[i].name)
			}
			raw.Exec("UPDATE cluster_meta SET docs = 3, generation = 5")
			raw.Close()

			db, err := Open(ctx, path)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer db.Close()
			if got := columns(db.db); !reflect.DeepEqual(got, want) {
				t.Errorf("columns %v, want those of a new database %v", got, want)
			}
			var docs, gen int
			db.db.QueryRow("SELECT docs, generation FROM cluster_meta").Scan(&docs, &gen)
			if docs != 3 || gen != 5 {
				t.Errorf("counters docs %d generation %d after the upgrade, want 3 and 5", docs, gen)
			}
			f := addFeed(t, db, "https://past.example/feed")
			if _, err := savePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{
				{ID: "a", Title: "Harbour bridge closed after ship collision", Published: t0},
			}}); err != nil {
				t.Fatalf("save: %v", err)
			}
			clusterStories(t, db, false)
			clusterStories(t, db, true)
		})
	}
}
