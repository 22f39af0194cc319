package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/storetest"
)

// A deferred write that fails is the error of the next call that waits
// for the batch, as it is, and of WriteTx; nothing of the transaction is
// kept, and the data version does not move.
func TestTxDeferredWriteFails(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, func() time.Time { return t0 })
	f, _ := db.AddFeed(ctx, store.NewFeed{URL: "https://a.example/feed"})
	if _, err := storetest.SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200,
		Entries: []feeds.Entry{{ID: "1", Title: "Harbour bridge closed", Published: t0}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'refused by test'; END $$;
		CREATE TRIGGER refuse BEFORE INSERT ON topic_entries FOR EACH ROW EXECUTE FUNCTION refuse()`); err != nil {
		t.Fatal(err)
	}
	v0, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var deferredErrs []error
	var readErr error
	err = db.WriteTx(ctx, func(tx store.Tx) error {
		docs, err := tx.PendingDocs(ctx, 10)
		if err != nil || len(docs) != 1 {
			t.Fatalf("pending: %v, %v", docs, err)
		}
		id := docs[0].ID
		entry, _ := store.EntryID(id)
		deferredErrs = append(deferredErrs, tx.Join(ctx, entry, 1), tx.MarkClustered(ctx, entry))
		_, readErr = tx.TopicDocs(ctx, 1)
		return readErr
	})
	for _, err := range deferredErrs {
		if err != nil {
			t.Errorf("a deferred write failed at once: %v", err)
		}
	}
	if readErr == nil || !strings.Contains(readErr.Error(), "refused by test") || !strings.Contains(readErr.Error(), "add entry 1 to topic 1") ||
		strings.Contains(readErr.Error(), "read the stories") {
		t.Errorf("the read after the failed write: %v, want the write's error as it is", readErr)
	}
	if err != readErr {
		t.Errorf("WriteTx = %v, want %v", err, readErr)
	}
	var pending, members int
	db.pool.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM pending_entries), (SELECT COUNT(*) FROM topic_entries)").Scan(&pending, &members)
	if pending != 1 || members != 0 {
		t.Errorf("after the failure: %d pending, %d memberships; want the story pending, as before", pending, members)
	}
	if v, err := db.DataVersion(ctx); err != nil || v != v0 {
		t.Errorf("data version %+v, %v; want %+v", v, err, v0)
	}
}
