package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/storetest"
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
	if err := os.WriteFile(path, []byte(strings.Repeat("this is not sqlite\n", 300)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open(junk) = %v, want an error naming the file", err)
	}
}

// TestOpenRefusesAnotherProgramsDatabase: a --db that names another
// program's SQLite file (a feed reader's cache.db) is refused, by the
// commands that write and those that read, and the file is left as it
// was: no storyline table, the same journal mode.
func TestOpenRefusesAnotherProgramsDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cache.db")
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, "CREATE TABLE rss_item (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO rss_item (title) VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	// Another migration tool's table of the same name does not make it
	// storyline's (golang-migrate's has version and dirty).
	migrated := filepath.Join(t.TempDir(), "app.db")
	other2, err := sql.Open("sqlite", migrated)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other2.ExecContext(ctx, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, dirty INTEGER); INSERT INTO schema_migrations VALUES (3, 0); CREATE TABLE users (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	other2.Close()
	if db, err := Open(ctx, migrated); err == nil || !strings.Contains(err.Error(), "not a storyline database") {
		if err == nil {
			db.Close()
		}
		t.Errorf("Open(a golang-migrate database): %v, want it refused", err)
	}
	for name, open := range map[string]func(context.Context, string) (*DB, error){"Open": Open, "OpenExisting": OpenExisting} {
		db, err := open(ctx, path)
		if err == nil {
			db.Close()
			t.Fatalf("%s(another program's database) succeeded", name)
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not a storyline database") ||
			!strings.Contains(err.Error(), "rss_item") {
			t.Errorf("%s: %v, want an error naming the file, its tables and what is wrong", name, err)
		}
	}
	other, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var tables int
	var mode string
	if err := other.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if err := other.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if tables != 1 || mode != "delete" {
		t.Errorf("the other program's database now has %d tables and journal mode %q, want 1 and delete", tables, mode)
	}
	// A storyline database, and an empty file, still open.
	for _, p := range []string{filepath.Join(t.TempDir(), "new.db"), filepath.Join(t.TempDir(), "empty.db")} {
		if strings.HasSuffix(p, "empty.db") {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 { // made, then reopened
			db, err := Open(ctx, p)
			if err != nil {
				t.Fatalf("Open(%s): %v", p, err)
			}
			db.Close()
		}
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
		{"skeleton", []string{ms[0].SQL, ms[1].SQL}},
		{"edited", []string{ms[0].SQL, string(edited), ms[2].SQL, ms[3].SQL, ms[4].SQL}},
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
				raw.Exec("INSERT INTO schema_migrations VALUES (?, ?, 0)", i+1, ms[i].Name)
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
			if _, err := storetest.SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{
				{ID: "a", Title: "Harbour bridge closed after ship collision", Published: t0},
			}}); err != nil {
				t.Fatalf("save: %v", err)
			}
			storetest.ClusterStories(t, db, false)
			storetest.ClusterStories(t, db, true)
		})
	}
}
