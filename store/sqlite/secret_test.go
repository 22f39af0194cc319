package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/storyline/storyline/store"
)

// TestFeedCredentialsKeptApart: a feed added with credentials is listed,
// found and moved by its public URL, fetched with the credentials, and a
// token given again later replaces the stored one.
func TestFeedCredentialsKeptApart(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f, err := db.AddFeed(ctx, store.NewFeed{URL: "https://bob:hunter22@example.org/feed?lang=en&token=old-token"})
	if err != nil {
		t.Fatal(err)
	}
	if f.URL != "https://example.org/feed?lang=en" || f.FetchURL() != "https://bob:hunter22@example.org/feed?lang=en&token=old-token" {
		t.Fatalf("URL %q, FetchURL %q", f.URL, f.FetchURL())
	}
	// The same subscription with a new token: not a second feed.
	if _, err := db.AddFeed(ctx, store.NewFeed{URL: "https://bob:hunter22@example.org/feed?lang=en&token=new-token"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second add: %v, want ErrExists", err)
	}
	got, err := db.Feed(ctx, "https://example.org/feed?lang=en&token=typed-again")
	if err != nil {
		t.Fatal(err)
	}
	if got.FetchURL() != "https://bob:hunter22@example.org/feed?lang=en&token=new-token" {
		t.Errorf("after a second add the fetch URL is %q", got.FetchURL())
	}
	// A permanent redirect on the same host keeps them; the error of a
	// poll is stored without them.
	if _, err := savePolls(ctx, db, []store.PollResult{{FeedID: f.ID, PolledAt: time.Now(), Status: 500,
		NewURL: "https://example.org/v2/feed?lang=en",
		Err:    "fetch https://bob:hunter22@example.org/feed?lang=en&token=new-token: 500", Errors: 1}}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Feed(ctx, "1")
	if got.URL != "https://example.org/v2/feed?lang=en" || got.FetchURL() != "https://bob:hunter22@example.org/v2/feed?lang=en&token=new-token" {
		t.Errorf("after a redirect: URL %q, FetchURL %q", got.URL, got.FetchURL())
	}
	if got.LastError != "fetch https://example.org/feed?lang=en: 500" {
		t.Errorf("stored error %q", got.LastError)
	}
	// To another host they are not handed on.
	if _, err := savePolls(ctx, db, []store.PollResult{{FeedID: f.ID, PolledAt: time.Now(), Status: 200,
		NewURL: "https://cdn.example.net/feed"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.Feed(ctx, "1"); got.FetchURL() != "https://cdn.example.net/feed" {
		t.Errorf("after a redirect to another host the fetch URL is %q", got.FetchURL())
	}
}

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
