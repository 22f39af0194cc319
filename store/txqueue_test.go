package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestTxQueueOrderAndFailure: queued writes run in order; after the first
// failure the rest are skipped, and do, sync and close report it.
func TestTxQueueOrderAndFailure(t *testing.T) {
	q := newTxQueue()
	var ran []int
	for i := range 1000 {
		if err := q.do(func() error { ran = append(ran, i); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.sync(); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 1000 || !slices.IsSorted(ran) {
		t.Fatalf("ran %d writes, in order: %v", len(ran), slices.IsSorted(ran))
	}
	boom := errors.New("disk full")
	q.do(func() error { return boom })
	q.do(func() error { ran = append(ran, -1); return nil })
	if err := q.sync(); !errors.Is(err, boom) {
		t.Errorf("sync after a failed write = %v, want %v", err, boom)
	}
	if err := q.do(func() error { ran = append(ran, -2); return nil }); !errors.Is(err, boom) {
		t.Errorf("do after a failed write = %v, want %v", err, boom)
	}
	if err := q.close(); !errors.Is(err, boom) {
		t.Errorf("close = %v, want %v", err, boom)
	}
	if err := q.close(); !errors.Is(err, boom) {
		t.Errorf("second close = %v, want %v", err, boom)
	}
	if len(ran) != 1000 {
		t.Errorf("%d writes ran after the failure", len(ran)-1000)
	}
	var nq *txQueue
	if err := nq.do(func() error { return boom }); !errors.Is(err, boom) {
		t.Errorf("a nil queue's do = %v, want the write's own error", err)
	}
}

// TestClusterPendingWriteFails: when a write of the clustering fails
// midway (here a trigger refuses one story's membership), ClusterPending
// names the failure, nothing of the batch is kept, every story stays
// pending, and the next call clusters them as if nothing had failed, topic IDs and
// all.
func TestClusterPendingWriteFails(t *testing.T) {
	ctx := context.Background()
	stream := storyStream()
	build := func(fail bool) map[string]string {
		db := openTest(t)
		ids := streamFeeds(t, db, len(stream))
		for fi := range stream {
			if _, err := db.SavePoll(ctx, PollResult{FeedID: ids[fi], PolledAt: t0, Status: 200, Entries: stream[fi]}); err != nil {
				t.Fatal(err)
			}
		}
		if !fail {
			clusterPending(t, db)
			return topicsOf(t, db)
		}
		var pending, victim int64
		if err := db.db.QueryRow("SELECT COUNT(*), MAX(entry_id) FROM pending_entries").Scan(&pending, &victim); err != nil {
			t.Fatal(err)
		}
		if _, err := db.db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON topic_entries
			WHEN NEW.entry_id = ` + fmt.Sprint(victim) + ` BEGIN SELECT RAISE(ABORT, 'refused by test'); END`); err != nil {
			t.Fatal(err)
		}
		_, err := db.ClusterPending(ctx)
		if err == nil || !strings.Contains(err.Error(), "refused by test") || !strings.Contains(err.Error(), "entry "+fmt.Sprint(victim)) {
			t.Fatalf("ClusterPending with a refused write = %v, want the refusal and the entry", err)
		}
		var left, members, topics int64
		if err := db.db.QueryRow(`SELECT (SELECT COUNT(*) FROM pending_entries), (SELECT COUNT(*) FROM topic_entries),
			(SELECT COUNT(*) FROM topics)`).Scan(&left, &members, &topics); err != nil {
			t.Fatal(err)
		}
		if left != pending || members != 0 || topics != 0 {
			t.Fatalf("after the failure: %d of %d stories pending, %d memberships, %d topics; want all pending, none kept",
				left, pending, members, topics)
		}
		if _, err := db.db.Exec("DROP TRIGGER refuse"); err != nil {
			t.Fatal(err)
		}
		clusterPending(t, db)
		return topicsOf(t, db)
	}
	want, got := build(false), build(true)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("clustered after a failure:\n got %v\nwant %v", got, want)
	}
}
