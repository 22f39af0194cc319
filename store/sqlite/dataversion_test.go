package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/dataversion"
	"github.com/storyline/storyline/store/storetest"
)

// clockDB opens the database at path with a clock the test moves.
func clockDB(t *testing.T, path string, now *time.Time) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return *now }
	t.Cleanup(func() { db.Close() })
	return db
}

// newsPoll is a poll of feed with one new story, n.
func newsPoll(feed int64, n int) store.PollResult {
	return store.PollResult{FeedID: feed, PolledAt: t0, Status: 200, Entries: []feeds.Entry{{
		ID: fmt.Sprint("n", n), Link: fmt.Sprintf("https://a.example/%d", n),
		Title: fmt.Sprintf("Story number %d", n), Text: "Some text.", Published: t0}}}
}

// The data version is answered from memory: within dataversion.TTL no
// query runs (a cancelled context would fail it), this DB's writes show at
// once, another DB's (another process's) once the TTL has passed.
func TestDataVersionInMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	now := t0
	db := clockDB(t, path, &now)
	other := clockDB(t, path, &now)
	f := addFeed(t, db, "https://a.example/feed")
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	v0, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.DataVersion(cancelled); err != nil || v != v0 {
		t.Fatalf("second read: %+v, %v; want %+v from memory", v, err, v0)
	}

	if _, err := storetest.SavePoll(ctx, db, newsPoll(f.ID, 1)); err != nil {
		t.Fatal(err)
	}
	v1, err := db.DataVersion(cancelled)
	if err != nil || v1.Version <= v0.Version {
		t.Fatalf("after a write of ours: %+v, %v; want newer than %d, from memory", v1, err, v0.Version)
	}
	if stored, err := other.DataVersion(ctx); err != nil || stored != v1 {
		t.Fatalf("stored %+v, %v; published %+v", stored, err, v1)
	}
	// Clustering the story gives it a storyline: that shows at once too.
	storetest.ClusterStories(t, db, false)
	if es, err := db.Entries(ctx, store.EntryQuery{}); err != nil || len(es) != 1 || es[0].TopicID == 0 {
		t.Fatalf("after clustering: %+v, %v; want the story in a storyline", es, err)
	}
	if v, err := db.DataVersion(cancelled); err != nil || v.Version <= v1.Version {
		t.Fatalf("after clustering: %+v, %v; want newer than %d, from memory", v, err, v1.Version)
	}
	if v1, err = db.DataVersion(cancelled); err != nil {
		t.Fatal(err)
	}

	if _, err := storetest.SavePoll(ctx, other, newsPoll(f.ID, 2)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(dataversion.TTL / 2)
	if v, err := db.DataVersion(cancelled); err != nil || v != v1 {
		t.Errorf("within the TTL: %+v, %v; want %+v", v, err, v1)
	}
	now = now.Add(dataversion.TTL / 2)
	v2, err := db.DataVersion(ctx)
	if err != nil || v2.Version <= v1.Version {
		t.Errorf("after the TTL: %+v, %v; want newer than %d", v2, err, v1.Version)
	}
	// A clock set back does not pin the known version for ever.
	now = t0.Add(-time.Hour)
	if _, err := db.DataVersion(cancelled); err == nil {
		t.Error("a clock set back did not read the stored version again")
	}
}

// A transaction that bumped the version and rolled back publishes nothing,
// not even when a later transaction commits without a bump.
func TestDataVersionRollback(t *testing.T) {
	now := t0
	db := clockDB(t, filepath.Join(t.TempDir(), "test.db"), &now)
	ctx := context.Background()
	v0, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.bumpDataVersion(ctx, tx); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	tx2, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx2.Commit(); err != nil {
		t.Fatal(err)
	}
	db.publishDataVersion(tx2)
	if v, err := db.DataVersion(ctx); err != nil || v.Version != v0.Version {
		t.Errorf("after a rollback: %+v, %v; want version %d", v, err, v0.Version)
	}
}

// Readers never see this process's version go back while it writes (run
// with -race).
func TestDataVersionConcurrent(t *testing.T) {
	now := t0
	var mu sync.Mutex
	db := clockDB(t, filepath.Join(t.TempDir(), "test.db"), &now)
	db.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := addFeed(t, db, "https://a.example/feed")
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 30 {
			if _, err := storetest.SavePoll(ctx, db, newsPoll(f.ID, i)); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			now = now.Add(dataversion.TTL / 3) // readers also re-read the stored version
			mu.Unlock()
		}
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var last int64
			for {
				select {
				case <-done:
					return
				default:
				}
				v, err := db.DataVersion(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if v.Version < last {
					t.Errorf("version went back from %d to %d", last, v.Version)
					return
				}
				last = v.Version
			}
		})
	}
	wg.Wait()
}
