package ingest

import (
	"context"
	"errors"
	"testing"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// TestClusteringShowsAtOnce: ClusterPending clusters what was saved, and
// its write shows in the data version at once, answered from memory (a
// cancelled context would fail a query).
func TestClusteringShowsAtOnce(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	db := openTest(t)
	f := addFeed(t, db, "https://a.example/feed")
	if _, err := db.SavePoll(ctx, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200,
		Entries: []feeds.Entry{{ID: "1", Title: "Harbour bridge closed", Published: t0}}}); err != nil {
		t.Fatal(err)
	}
	v1, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := db.ClusterPending(ctx); err != nil || n != 1 {
		t.Fatalf("ClusterPending = %d, %v", n, err)
	}
	if v, err := db.DataVersion(cancelled); err != nil || v.Version <= v1.Version {
		t.Errorf("after clustering: %+v, %v; want newer than %d, from memory", v, err, v1.Version)
	}
}

// TestRemoveFeed: a feed removed by URL takes its entries along, the
// change shows, and a feed that does not exist is store.ErrNotFound.
func TestRemoveFeed(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := addFeed(t, db, "https://a.example/feed")
	savePoll(t, db, f.ID, feeds.Entry{ID: "1", Title: "One", Published: t0})
	v0, _ := db.DataVersion(ctx)
	if got, err := db.RemoveFeed(ctx, "https://a.example/feed"); err != nil || got.ID != f.ID {
		t.Fatalf("RemoveFeed = %+v, %v", got, err)
	}
	if es, _ := db.Entries(ctx, store.EntryQuery{}); len(es) != 0 {
		t.Errorf("%d entries left after removing their feed", len(es))
	}
	if v, _ := db.DataVersion(ctx); v.Version == v0.Version {
		t.Error("removing a feed did not change the data version")
	}
	if _, err := db.RemoveFeed(ctx, "42"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("remove missing: %v, want store.ErrNotFound", err)
	}
}
