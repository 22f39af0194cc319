package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/storetest"
)

// TestTxDeferredWriteFails: a deferred write that fails is the error of
// the next call of the transaction, as it is (not the call's own), and of
// WriteTx; nothing of the transaction is kept, and the data version does
// not move. The next call is the deferred MarkClustered if the failed
// write has run by then, else the read after it: which one depends on the
// queue's goroutine.
func TestTxDeferredWriteFails(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f := addFeed(t, db, "https://a.example/feed")
	if _, err := storetest.SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200,
		Entries: []feeds.Entry{{ID: "1", Title: "Harbour bridge closed", Published: t0}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON topic_entries
		BEGIN SELECT RAISE(ABORT, 'refused by test'); END`); err != nil {
		t.Fatal(err)
	}
	v0, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var joinErr, readErr error
	err = db.WriteTx(ctx, func(tx store.Tx) error {
		docs, err := tx.PendingDocs(ctx, 10)
		if err != nil || len(docs) != 1 {
			t.Fatalf("pending: %v, %v", docs, err)
		}
		joinErr = tx.Join(ctx, 1, 1)
		if readErr = tx.MarkClustered(ctx, 1); readErr != nil {
			return readErr
		}
		_, readErr = tx.TopicDocs(ctx, 1)
		return readErr
	})
	if joinErr != nil {
		t.Errorf("the deferred Join failed at once: %v", joinErr)
	}
	if readErr == nil || !strings.Contains(readErr.Error(), "refused by test") || !strings.Contains(readErr.Error(), "add entry 1 to topic 1") ||
		strings.Contains(readErr.Error(), "read the stories") {
		t.Errorf("the read after the failed write: %v, want the write's error as it is", readErr)
	}
	if err != readErr {
		t.Errorf("WriteTx = %v, want %v", err, readErr)
	}
	var pending, members int
	db.db.QueryRow("SELECT (SELECT COUNT(*) FROM pending_entries), (SELECT COUNT(*) FROM topic_entries)").Scan(&pending, &members)
	if pending != 1 || members != 0 {
		t.Errorf("after the failure: %d pending, %d memberships; want the story pending, as before", pending, members)
	}
	if v, err := db.DataVersion(ctx); err != nil || v != v0 {
		t.Errorf("data version %+v, %v; want %+v", v, err, v0)
	}
}

// TestSearchIndexGathered: the entries a transaction's polls insert enter
// the full-text index a batch at a time (indexNew), and the index stays
// right when the same transaction edits or deletes an entry not indexed
// yet: a second poll of the feed, a deletion of its feed.
func TestSearchIndexGathered(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	a := addFeed(t, db, "https://a.example/feed")
	b := addFeed(t, db, "https://b.example/feed")
	c := addFeed(t, db, "https://c.example/feed")
	d := addFeed(t, db, "https://d.example/feed")
	poll := func(feed int64, title string) store.PollResult {
		return store.PollResult{FeedID: feed, PolledAt: t0, Status: 200,
			Entries: []feeds.Entry{{ID: "1", Title: title, Published: t0}}}
	}
	many := store.PollResult{FeedID: d.ID, PolledAt: t0, Status: 200} // a batch of its own
	for i := range indexBatch + 10 {
		many.Entries = append(many.Entries, feeds.Entry{ID: fmt.Sprint(i), Title: fmt.Sprintf("Ferry timetable %d", i), Published: t0})
	}
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		for _, r := range []store.PollResult{
			poll(a.ID, "Harbour bridge closed"),
			poll(b.ID, "Tramway strike ends"),
			poll(c.ID, "Lighthouse keeper retires"),
			poll(a.ID, "Harbour bridge reopened"), // edits a's entry, not indexed yet
		} {
			if _, _, err := tx.SavePoll(ctx, r); err != nil {
				return err
			}
		}
		_, err := tx.DeleteFeed(ctx, c.ID) // deletes c's entry, not indexed yet
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A poll of more than a batch is indexed before the transaction ends.
	if err := db.WriteTx(ctx, func(tx store.Tx) error {
		_, _, err := tx.SavePoll(ctx, many)
		if w := tx.(*writeTx); w.indexFrom != 0 {
			t.Errorf("%d entries wait for the index after a poll of %d", w.indexCount, len(many.Entries))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	checkIndexInStep(t, db)
	for q, want := range map[string]int{"reopened": 1, "closed": 0, "tramway": 1, "lighthouse": 0, "harbour": 1, "ferry": indexBatch + 10} {
		got, err := db.Search(ctx, q, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("search %q: %d entries, want %d", q, len(got), want)
		}
	}
}
