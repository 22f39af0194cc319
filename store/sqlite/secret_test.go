package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestMigrationSplitsStoredCredentials: feeds subscribed before the
// credentials were kept apart lose them from their URLs on upgrade, and
// keep fetching with them.
func TestMigrationSplitsStoredCredentials(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// Undo migration 10 and those after it by hand, as a database of the
	// version before it.
	for _, q := range []string{
		"ALTER TABLE feeds DROP COLUMN secret",
		"ALTER TABLE entries DROP COLUMN image",
		"DELETE FROM schema_migrations WHERE version >= 10",
		`INSERT INTO feeds (url, added_url, next_poll_at, created_at, last_error) VALUES
			('https://u:pw-123@example.org/a?token=abc', 'https://u:pw-123@example.org/a?token=abc', 0, 0,
				'feeds: fetch https://u:pw-123@example.org/a?token=abc: HTTP 500'),
			('https://example.org/a', 'https://example.org/a', 0, 0, ''),
			('https://example.org/b?key=xyz&page=2', 'https://example.org/b?key=xyz&page=2', 0, 0, '')`,
	} {
		if _, err := db.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fl, err := db.Feeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ url, fetch string }{
		{"https://example.org/a#1", "https://u:pw-123@example.org/a?token=abc#1"},
		{"https://example.org/a", "https://example.org/a"},
		{"https://example.org/b?page=2", "https://example.org/b?page=2&key=xyz"},
	}
	if len(fl) != len(want) {
		t.Fatalf("%d feeds after the migration, want %d", len(fl), len(want))
	}
	for i, w := range want {
		if fl[i].URL != w.url || fl[i].FetchURL() != w.fetch {
			t.Errorf("feed %d: URL %q, FetchURL %q; want %q, %q", fl[i].ID, fl[i].URL, fl[i].FetchURL(), w.url, w.fetch)
		}
	}
	if e := fl[0].LastError; e != "feeds: fetch https://example.org/a: HTTP 500" {
		t.Errorf("the stored error kept its credentials: %q", e)
	}
}
