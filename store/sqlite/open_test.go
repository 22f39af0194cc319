package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/storetest"
)

// TestCloseDoesNotWaitForAnotherWriter: a command that read next to a
// writing daemon exits at once. Its closing checkpoint used to wait for the
// other's write lock until the busy timeout (10 s).
func TestCloseDoesNotWaitForAnotherWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	writer, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	addFeed(t, writer, "https://example.org/feed")
	tx, err := writer.db.BeginTx(ctx, nil) // IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE feeds SET title = 'busy'"); err != nil {
		t.Fatal(err)
	}

	reader, err := OpenExisting(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if fl, err := reader.Feeds(ctx); err != nil || len(fl) != 1 {
		t.Fatalf("read next to the writer: %v, %d feeds", err, len(fl))
	}
	closed := make(chan error, 1)
	go func() { closed <- reader.Close() }()
	// Far below the busy timeout, far above what a close takes.
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the other connection's write lock")
	}
}

// TestReadersShareABoundedPool: a burst of concurrent reads (a search
// load) never opens more than maxOpenConns connections, each with its own
// page cache; the reads queue for a connection instead.
func TestReadersShareABoundedPool(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	addFeed(t, db, "https://example.org/feed")
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak := 0
	for range 8 * maxOpenConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows, err := db.db.QueryContext(ctx, "SELECT url FROM feeds")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			peak = max(peak, db.db.Stats().OpenConnections)
			mu.Unlock()
			time.Sleep(time.Millisecond) // hold the connection a while
			rows.Close()
		}()
	}
	wg.Wait()
	if peak > maxOpenConns || db.db.Stats().MaxOpenConnections != maxOpenConns {
		t.Errorf("%d connections open at once (pool limit %d), want at most %d",
			peak, db.db.Stats().MaxOpenConnections, maxOpenConns)
	}
}

func TestOpenErrorsNameTheProblem(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	if _, err := OpenExisting(ctx, missing); err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, store.ErrNoDatabase) {
		t.Errorf("OpenExisting of a missing file: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("OpenExisting created the file")
	}
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	if _, err := Open(ctx, filepath.Join(notDir, "x.db")); err == nil || !strings.Contains(err.Error(), notDir+" is not a directory") {
		t.Errorf("Open under a file: %v", err)
	}
	if _, err := Open(ctx, filepath.Join(dir, "nope", "x.db")); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "nope")) {
		t.Errorf("Open in a missing directory: %v", err)
	}
	// A directory given for the file (it was "unable to open database
	// file (14)").
	for name, open := range map[string]func(context.Context, string) (*DB, error){"Open": Open, "OpenExisting": OpenExisting} {
		if _, err := open(ctx, dir); err == nil || !strings.Contains(err.Error(), dir+" is a directory, not a database file") {
			t.Errorf("%s of a directory: %v", name, err)
		}
	}
	// A backup into a missing directory names that directory, not the
	// temporary file it would have written there.
	db, err := Open(ctx, filepath.Join(dir, "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Backup(ctx, filepath.Join(dir, "nope", "copy.db")); err == nil || !strings.Contains(err.Error(), "directory "+filepath.Join(dir, "nope")) ||
		strings.Contains(err.Error(), "partial") {
		t.Errorf("Backup into a missing directory: %v", err)
	}
}

// TestDamageShowsInTheHealthRead: a file whose tables are damaged fails
// the read /healthz makes (the newest entry), although SQLite still
// answers "SELECT 1" from it.
func TestDamageShowsInTheHealthRead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "damaged.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Entries(ctx, store.EntryQuery{Limit: 1}); err != nil {
		t.Fatalf("read of a sound database: %v", err)
	}
	// Enough entries that the table spans pages beyond the schema's.
	f := addFeed(t, db, "https://example.org/feed")
	var es []feeds.Entry
	for i := range 400 {
		es = append(es, feeds.Entry{ID: fmt.Sprint(i), Title: fmt.Sprintf("Story number %d about the harbour", i),
			Text: strings.Repeat("The harbour authority met again. ", 8), Published: t0.Add(time.Duration(i) * time.Minute)})
	}
	if _, err := storetest.SavePolls(ctx, db, []store.PollResult{{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: es}}); err != nil {
		t.Fatal(err)
	}
	var root, pageSize int64
	if err := db.db.QueryRowContext(ctx, "SELECT rootpage FROM sqlite_schema WHERE name = 'entries'").Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := db.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Overwrite the root page of the entries table with garbage.
	file, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := file.WriteAt([]byte(strings.Repeat("\xff", int(pageSize))), (root-1)*pageSize); err != nil {
		t.Fatal(err)
	}
	file.Close()
	db, err = OpenExisting(ctx, path)
	if err != nil {
		t.Skipf("the damaged file does not even open (%v): nothing left to check", err)
	}
	defer db.Close()
	var one int
	if err := db.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("SELECT 1 on the damaged file: %v", err)
	}
	if _, err := db.Entries(ctx, store.EntryQuery{Limit: 1}); err == nil {
		t.Error("the newest entry of a database with damaged tables was read")
	}
}
