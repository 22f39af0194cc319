package ingest

import (
	"context"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/storyline/storyline/store"
)

// fakeLocker is a cluster lock shared by the pipelines of one test, as a
// database's advisory lock is by instances: held by one at a time, and
// lost (then free) when its holder dies. Polling is busy while busy is
// set, and the oldest pending story is as old as the test says.
type fakeLocker struct {
	mu     sync.Mutex
	holder *fakeLock
	tries  int
	busy   bool
	oldest time.Time
}

func (l *fakeLocker) PollingBacklog(ctx context.Context, now time.Time) (bool, time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.busy, l.oldest, nil
}

func (l *fakeLocker) set(busy bool, oldest time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.busy, l.oldest = busy, oldest
}

type fakeLock struct {
	l    *fakeLocker
	lost chan struct{}
}

func (l *fakeLocker) TryClusterLock(ctx context.Context) (ClusterLock, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tries++
	if l.holder != nil {
		return nil, false, nil
	}
	l.holder = &fakeLock{l: l, lost: make(chan struct{})}
	return l.holder, true, nil
}

// kill drops the holder's lock as the database does when its connection
// dies.
func (l *fakeLocker) kill() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder != nil {
		close(l.holder.lost)
		l.holder = nil
	}
}

func (k *fakeLock) Lost() <-chan struct{} { return k.lost }

func (k *fakeLock) Release(ctx context.Context) error {
	k.l.mu.Lock()
	defer k.l.mu.Unlock()
	if k.l.holder == k {
		k.l.holder = nil
	}
	return nil
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLeadOneClusterer: instances sharing a database all store stories,
// and only the one holding the cluster lock clusters them; when it dies,
// another takes over and ends with the clustering one instance would
// have made.
func TestLeadOneClusterer(t *testing.T) {
	stream := storyStream()
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openAt(t, path), openAt(t, path)
	ids := streamFeeds(t, a, len(stream))
	locker := &fakeLocker{}
	var mu sync.Mutex
	leading := map[*testDB]bool{}
	lead := func(ctx context.Context, x *testDB) func() {
		return x.Lead(ctx, locker, 10*time.Millisecond, time.Minute, func(l bool, err error) {
			if err != nil {
				t.Errorf("lead: %v", err)
			}
			mu.Lock()
			leading[x] = l
			mu.Unlock()
		})
	}
	isLeading := func(x *testDB) bool { mu.Lock(); defer mu.Unlock(); return leading[x] }
	ctxA, stopA := context.WithCancel(context.Background())
	waitA := lead(ctxA, a)
	waitFor(t, "a to lead", func() bool { return isLeading(a) })
	ctxB, stopB := context.WithCancel(context.Background())
	waitB := lead(ctxB, b)
	defer func() { stopB(); waitB() }()

	pending := func() int {
		var n int
		a.raw.QueryRow("SELECT COUNT(*) FROM pending_entries").Scan(&n)
		return n
	}
	// b, following, stores stories and does not cluster them; a does.
	save := func(x *testDB, from, to int) {
		for i := from; i < to; i++ {
			for f, es := range stream {
				if i < len(es) {
					if _, err := x.SavePoll(context.Background(), store.PollResult{FeedID: ids[f], PolledAt: t0, Status: 200, Entries: es[:i+1]}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	// While polls are in progress and the stories are fresh, nobody
	// clusters them: a wave of polls is clustered together.
	locker.set(true, time.Now())
	save(b, 0, 3)
	if n, err := b.ClusterPending(context.Background()); err != nil || n != 0 {
		t.Errorf("a follower clustered %d stories (%v)", n, err)
	}
	if n, err := a.ClusterPending(context.Background()); err != nil || n != 0 {
		t.Errorf("the leader's ClusterPending clustered %d stories (%v); only its loop should", n, err)
	}
	time.Sleep(100 * time.Millisecond)
	if pending() == 0 {
		t.Fatal("the leader clustered in the middle of a wave of polls")
	}
	// Once the oldest story has waited long enough, the leader clusters
	// even though polls go on.
	locker.set(true, time.Now().Add(-time.Hour))
	waitFor(t, "the leader to cluster what the follower stored", func() bool { return pending() == 0 })
	if isLeading(b) {
		t.Fatal("two leaders")
	}
	// Only the leader prunes.
	if st, err := b.Prune(context.Background(), store.Retention{MaxPerFeed: 1}); err != nil || st.Entries != 0 {
		t.Errorf("a follower pruned %d stories (%v)", st.Entries, err)
	}

	// a dies; b takes over and clusters what comes next.
	stopA()
	waitA()
	locker.kill()
	waitFor(t, "b to lead", func() bool { return isLeading(b) })
	locker.set(true, time.Now())
	save(b, 3, 7)
	time.Sleep(100 * time.Millisecond)
	if pending() == 0 {
		t.Fatal("the new leader clustered in the middle of a wave of polls")
	}
	// The wave ends: the new leader clusters at its next tick.
	locker.set(false, time.Now())
	waitFor(t, "the new leader to cluster", func() bool { return pending() == 0 })
	checkConsistent(t, b)

	whole := openAt(t, filepath.Join(t.TempDir(), "one.db"))
	streamFeeds(t, whole, len(stream))
	saveStream(t, whole, stream, ids, 0, 7)
	if got, want := topicsOf(t, b), topicsOf(t, whole); !reflect.DeepEqual(got, want) {
		t.Errorf("two instances, one leading at a time:\n got %v\nwant %v", got, want)
	}
}
