package sqlite

import (
	"context"
	"testing"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// TestEntryImageStored: a story's picture is stored and read back, and one
// that appears later (as after the upgrade that began reading them)
// updates the entry once.
func TestEntryImageStored(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := addFeed(t, db, "https://pics.example/feed")
	e := feeds.Entry{ID: "a", Link: "https://pics.example/a", Title: "Harbour reopens", Published: t0}
	poll := func(e feeds.Entry) store.SaveStats {
		t.Helper()
		st, err := savePolls(ctx, db, []store.PollResult{{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{e}}})
		if err != nil {
			t.Fatal(err)
		}
		return st[0]
	}
	poll(e)
	if st := poll(e); st.Unchanged != 1 {
		t.Fatalf("the same entry again: %+v", st)
	}
	e.Image = "https://img.example/a.jpg"
	if st := poll(e); st.Updated != 1 {
		t.Fatalf("the entry with an image: %+v, want it updated", st)
	}
	if st := poll(e); st.Unchanged != 1 {
		t.Fatalf("the entry with the same image: %+v", st)
	}
	es, err := db.Entries(ctx, store.EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Entry.Image != e.Image {
		t.Fatalf("stored %+v", es)
	}
}
