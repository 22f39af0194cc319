package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/postgres/pgtest"
	"github.com/storyline/storyline/store/storetest"
)

var t0 = storetest.T0

// instances opens n DBs on one new database, as n storyline processes
// would, with the clock t0.
func instances(t *testing.T, n int) []*DB {
	t.Helper()
	dsn := pgtest.DSN(t)
	dbs := make([]*DB, n)
	for i := range dbs {
		db, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		db.Now = func() time.Time { return t0 }
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs
}

// Two instances claiming and polling the due feeds at once never get the
// same feed, and between them poll all of them once.
func TestClaimDueFeedsConcurrent(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	const n = 200
	for i := range n {
		if _, err := dbs[0].AddFeed(ctx, store.NewFeed{URL: fmt.Sprintf("https://f%d.example/feed", i)}); err != nil {
			t.Fatal(err)
		}
	}
	claimed := make([]map[int64]bool, len(dbs))
	var wg sync.WaitGroup
	for i, db := range dbs {
		claimed[i] = map[int64]bool{}
		wg.Go(func() {
			for {
				fs, err := db.ClaimDueFeeds(ctx, t0, false, fmt.Sprint("instance", i), time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(fs) == 0 {
					return
				}
				// Polled: due again in an hour.
				rs := make([]store.PollResult, len(fs))
				for k, f := range fs {
					claimed[i][f.ID] = true
					rs[k] = store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 304, NotModified: true, NextPollAt: t0.Add(time.Hour)}
				}
				if _, err := storetest.SavePolls(ctx, db, rs); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for id := range claimed[0] {
		if claimed[1][id] {
			t.Errorf("feed %d claimed by both instances", id)
		}
	}
	if got := len(claimed[0]) + len(claimed[1]); got != n {
		t.Errorf("%d feeds claimed, want %d", got, n)
	}
	t.Logf("instance 0 claimed %d, instance 1 %d", len(claimed[0]), len(claimed[1]))
}

// A lease keeps a feed from other claimers until it runs out (its holder
// died) or a saved poll ends it; claims come most overdue first.
func TestClaimDueFeedsLease(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	a, b := dbs[0], dbs[1]
	now := t0
	a.Now = func() time.Time { return now }
	f1, _ := a.AddFeed(ctx, store.NewFeed{URL: "https://one.example/feed"})
	now = t0.Add(-time.Minute) // due a minute earlier: polled first
	f2, _ := a.AddFeed(ctx, store.NewFeed{URL: "https://two.example/feed"})
	now = t0
	future, _ := a.AddFeed(ctx, store.NewFeed{URL: "https://later.example/feed"})
	if _, err := storetest.SavePoll(ctx, a, store.PollResult{FeedID: future.ID, PolledAt: t0, Status: 304,
		NotModified: true, NextPollAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	got, err := a.ClaimDueFeeds(ctx, t0, false, "a", time.Minute, 0)
	if err != nil || len(got) != 2 || got[0].ID != f2.ID || got[1].ID != f1.ID {
		t.Fatalf("claim = %+v, %v; want feeds %d and %d, most overdue first", got, err, f2.ID, f1.ID)
	}
	if got, err := b.ClaimDueFeeds(ctx, t0.Add(30*time.Second), false, "b", time.Minute, 0); err != nil || len(got) != 0 {
		t.Fatalf("claim during the lease = %+v, %v; want none", got, err)
	}
	// a saves its poll of f1, then dies holding f2's lease.
	if _, err := storetest.SavePoll(ctx, a, store.PollResult{FeedID: f1.ID, PolledAt: t0, Status: 200,
		NextPollAt: t0.Add(30 * time.Second), Entries: []feeds.Entry{{ID: "x", Title: "x", Published: t0}}}); err != nil {
		t.Fatal(err)
	}
	got, err = b.ClaimDueFeeds(ctx, t0.Add(30*time.Second), false, "b", time.Minute, 0)
	if err != nil || len(got) != 1 || got[0].ID != f1.ID {
		t.Fatalf("claim after a saved poll = %+v, %v; want feed %d again, due and no longer leased", got, err, f1.ID)
	}
	if next, err := b.NextPollAt(ctx); err != nil || !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("next poll = %v, %v; want %v, when the dead instance's lease ends", next, err, t0.Add(time.Minute))
	}
	// b's own lease on f1 does not keep f1 from b.
	got, err = b.ClaimDueFeeds(ctx, t0.Add(time.Minute), false, "b", time.Minute, 0)
	if err != nil || len(got) != 2 || got[0].ID != f2.ID || got[1].ID != f1.ID {
		t.Fatalf("claim after the lease ran out = %+v, %v; want the dead instance's feed %d, then %d", got, err, f2.ID, f1.ID)
	}
	// all: every feed no other instance holds, due or not; an owner's own
	// leases do not keep its feeds from it.
	got, err = b.ClaimDueFeeds(ctx, t0.Add(time.Minute), true, "b", time.Minute, 0)
	if err != nil || len(got) != 3 {
		t.Fatalf("claim all by the holder = %+v, %v; want all 3 feeds", got, err)
	}
	if got, err := a.ClaimDueFeeds(ctx, t0.Add(time.Minute), true, "a", time.Minute, 0); err != nil || len(got) != 0 {
		t.Fatalf("claim all while another holds them = %+v, %v; want none", got, err)
	}
}

// One instance holds the cluster lock at a time; when its session dies,
// it learns so, and another instance takes the lock.
func TestClusterLock(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	a, b := dbs[0], dbs[1]
	la, ok, err := a.TryClusterLock(ctx)
	if err != nil || !ok {
		t.Fatalf("first lock: %v, %v", ok, err)
	}
	defer la.Release(ctx)
	if _, ok, err := b.TryClusterLock(ctx); err != nil || ok {
		t.Fatalf("second lock while the first is held: %v, %v; want refused", ok, err)
	}
	if _, ok, _ := a.TryClusterLock(ctx); ok {
		t.Fatal("the holder's own instance took the lock a second time")
	}
	// A follower's tries reuse one session rather than start one each.
	sessions := func() (n int) {
		a.pool.QueryRow(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()").Scan(&n)
		return n
	}
	before := sessions()
	for range 5 {
		if _, ok, err := b.TryClusterLock(ctx); err != nil || ok {
			t.Fatalf("a follower's try: %v, %v", ok, err)
		}
	}
	if after := sessions(); after > before {
		t.Errorf("%d sessions after five tries of a follower, %d before", after, before)
	}
	if b.lockConn == nil {
		t.Error("the follower keeps no session for its next try")
	}
	// The holder's process dies: its session goes, as when killed.
	if _, err := b.pool.Exec(ctx, "SELECT pg_terminate_backend($1)", la.conn.PgConn().PID()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-la.Lost():
	case <-time.After(10 * clusterLockCheck):
		t.Fatal("the holder did not notice that its session ended")
	}
	lb, ok, err := b.TryClusterLock(ctx)
	if err != nil || !ok {
		t.Fatalf("lock after the holder died: %v, %v", ok, err)
	}
	if err := la.Release(ctx); err != nil {
		t.Errorf("release of a lost lock: %v", err)
	}
	// A release hands it on at once.
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lb.Lost():
		t.Error("a released lock reports itself lost")
	default:
	}
	lc, ok, err := a.TryClusterLock(ctx)
	if err != nil || !ok {
		t.Fatalf("lock after a release: %v, %v", ok, err)
	}
	lc.Release(ctx)
}

// The clustering transactions of two instances run one after another:
// the second reads the generation only once the first has committed.
func TestClusteringTransactionsSerialized(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	inFirst := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- dbs[0].WriteTx(ctx, func(tx store.Tx) error {
			if _, err := tx.ClusterGeneration(ctx); err != nil {
				return err
			}
			close(inFirst)
			<-release
			_, err := tx.SaveClusterCounters(ctx, store.ClusterCounters{Docs: 1})
			return err
		})
	}()
	<-inFirst
	second := make(chan int64)
	go func() {
		var gen int64
		err := dbs[1].WriteTx(ctx, func(tx store.Tx) error {
			var err error
			gen, err = tx.ClusterGeneration(ctx)
			return err
		})
		if err != nil {
			t.Error(err)
		}
		second <- gen
	}()
	select {
	case gen := <-second:
		t.Fatalf("the second clustering transaction read generation %d while the first was open", gen)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if gen := <-second; gen != 1 {
		t.Errorf("the second transaction read generation %d, want 1, the first's", gen)
	}
}

// TestReleaseLeases: an instance that stops hands back what it claimed.
func TestReleaseLeases(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	a, b := dbs[0], dbs[1]
	for _, u := range []string{"https://a.example/1", "https://a.example/2"} {
		if _, err := a.AddFeed(ctx, store.NewFeed{URL: u}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := a.ClaimDueFeeds(ctx, t0, false, "a", time.Hour, 0); err != nil || len(got) != 2 {
		t.Fatalf("a claims %d, %v", len(got), err)
	}
	if got, _ := b.ClaimDueFeeds(ctx, t0, false, "b", time.Hour, 0); len(got) != 0 {
		t.Fatalf("b claims %d feeds a holds", len(got))
	}
	if err := a.ReleaseLeases(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.ClaimDueFeeds(ctx, t0, false, "b", time.Hour, 0); len(got) != 2 {
		t.Errorf("after a released its leases b claims %d feeds, want 2", len(got))
	}
}
