package ingest

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// checkConsistent asserts what pruning, backups and crashes must keep: a
// sound file, every entry pending or in exactly one storyline, stored
// sizes equal to member counts, no empty storyline, each headline one of
// its stories' titles, and the document count equal to the clustered
// entries.
func checkConsistent(t *testing.T, db *testDB) {
	t.Helper()
	ctx := context.Background()
	if res, err := db.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Fatalf("integrity check: %q %v", res, err)
	}
	var q = []struct {
		what, sql string
	}{
		{"entries neither pending nor in a storyline", `SELECT COUNT(*) FROM entries e WHERE
			NOT EXISTS (SELECT 1 FROM topic_entries te WHERE te.entry_id = e.id) AND
			NOT EXISTS (SELECT 1 FROM pending_entries p WHERE p.entry_id = e.id)`},
		{"pending entries in a storyline", `SELECT COUNT(*) FROM pending_entries p JOIN topic_entries te ON te.entry_id = p.entry_id`},
		{"storylines whose size is not their member count", `SELECT COUNT(*) FROM topics t
			WHERE t.size <> (SELECT COUNT(*) FROM topic_entries te WHERE te.topic_id = t.id)`},
		{"empty storylines", `SELECT COUNT(*) FROM topics t WHERE NOT EXISTS (SELECT 1 FROM topic_entries te WHERE te.topic_id = t.id)`},
		{"storylines headed by a story not theirs", `SELECT COUNT(*) FROM topics t WHERE NOT EXISTS
			(SELECT 1 FROM topic_entries te JOIN entries e ON e.id = te.entry_id WHERE te.topic_id = t.id AND e.title = t.headline)`},
		{"difference between documents counted and clustered", `SELECT ABS((SELECT docs FROM cluster_meta) - (SELECT COUNT(*) FROM topic_entries))`},
		{"full-text rows without their entry", `SELECT COUNT(*) FROM entries_fts f WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.id = f.rowid)`},
	}
	for _, c := range q {
		var n int
		if err := db.raw.QueryRowContext(ctx, c.sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, c.what)
		}
	}
	// Every topic's saved state, read as the clusterer loads it.
	states := map[int64]cluster.TopicState{}
	for _, ts := range clusterState(t, db, math.MaxInt64).Topics {
		states[ts.ID] = ts
	}
	rows, err := db.raw.QueryContext(ctx, "SELECT id, size FROM topics")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var size int
		if err := rows.Scan(&id, &size); err != nil {
			t.Fatal(err)
		}
		n++
		if ts, ok := states[id]; !ok || ts.Size != size {
			t.Errorf("topic %d of size %d has no saved state of its own (%v), or one of size %d", id, size, ok, ts.Size)
		}
	}
	if n != len(states) {
		t.Errorf("%d topics, %d saved states", n, len(states))
	}
}

// dayOfNews stores and clusters one day of stories from three feeds: the
// random stream of invariants_test, dated on that day.
func dayOfNews(t *testing.T, db *testDB, fs []store.Feed, day int, perFeed int, r *rand.Rand, next *int) {
	t.Helper()
	var rs []store.PollResult
	for _, f := range fs {
		var es []feeds.Entry
		for range perFeed {
			*next++
			e := randomEntry(r, *next)
			e.Published = t0.Add(time.Duration(day)*24*time.Hour + time.Duration(r.IntN(24*60))*time.Minute)
			es = append(es, e)
		}
		rs = append(rs, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: es})
	}
	if _, err := db.SavePolls(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	clusterPending(t, db)
}

func TestPruneKeepsStorylinesConsistent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	r := rand.New(rand.NewPCG(5, 9))
	fs := []store.Feed{addFeed(t, db, "https://a.example/f"), addFeed(t, db, "https://b.example/f"), addFeed(t, db, "https://c.example/f")}
	n := 0
	for day := range 10 {
		dayOfNews(t, db, fs, day, 40, r, &n)
	}
	// A few stories stay pending: pruning must handle them too.
	if _, err := db.SavePolls(ctx, []store.PollResult{{FeedID: fs[0].ID, PolledAt: t0, Status: 200,
		Entries: []feeds.Entry{{ID: "old-pending", Title: "harbour bridge closed", Published: t0.Add(-time.Hour)}}}}); err != nil {
		t.Fatal(err)
	}
	var topicsBefore int
	db.raw.QueryRow("SELECT COUNT(*) FROM topics").Scan(&topicsBefore)
	now := t0.Add(10 * 24 * time.Hour)
	db.Now = func() time.Time { return now }

	st, err := db.Prune(ctx, store.Retention{MaxAge: 5 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var older, left int
	db.raw.QueryRow("SELECT COUNT(*) FROM entries WHERE published_at < ?", now.Add(-5*24*time.Hour).UnixMilli()).Scan(&older)
	db.raw.QueryRow("SELECT COUNT(*) FROM entries").Scan(&left)
	if older != 0 || st.Entries != n+1-left || st.Entries < 500 {
		t.Errorf("pruned %d of %d entries, %d left older than the cut", st.Entries, n+1, older)
	}
	var topicsAfter int
	db.raw.QueryRow("SELECT COUNT(*) FROM topics").Scan(&topicsAfter)
	if st.Topics == 0 || topicsBefore-topicsAfter != st.Topics {
		t.Errorf("%d storylines before, %d after, %d reported removed", topicsBefore, topicsAfter, st.Topics)
	}
	checkConsistent(t, db)

	// Per feed: the newest 100 of each stay.
	if _, err := db.Prune(ctx, store.Retention{MaxPerFeed: 100}); err != nil {
		t.Fatal(err)
	}
	rows, _ := db.raw.Query("SELECT feed_id, COUNT(*) FROM entries GROUP BY feed_id")
	for rows.Next() {
		var f, c int
		rows.Scan(&f, &c)
		if c != 100 {
			t.Errorf("feed %d keeps %d entries, want 100", f, c)
		}
	}
	rows.Close()
	checkConsistent(t, db)
	// The clustering goes on from the pruned state.
	dayOfNews(t, db, fs, 10, 40, r, &n)
	checkConsistent(t, db)
}

// TestPruneBoundsTheFile: at a fixed retention the database stops growing
// after the first rounds; without it, it grows every round.
func TestPruneBoundsTheFile(t *testing.T) {
	ctx := context.Background()
	for _, prune := range []bool{false, true} {
		db := openTest(t)
		r := rand.New(rand.NewPCG(11, 3))
		fs := []store.Feed{addFeed(t, db, "https://a.example/f"), addFeed(t, db, "https://b.example/f")}
		n := 0
		var pages []int64
		for day := range 5 {
			dayOfNews(t, db, fs, day, 300, r, &n)
			now := t0.Add(time.Duration(day+1) * 24 * time.Hour)
			db.Now = func() time.Time { return now }
			if prune {
				if _, err := db.Prune(ctx, store.Retention{MaxAge: 48 * time.Hour}); err != nil {
					t.Fatal(err)
				}
			}
			var p int64
			db.raw.QueryRow("PRAGMA page_count").Scan(&p)
			pages = append(pages, p)
		}
		t.Logf("prune %v: pages per round %v", prune, pages)
		grew := float64(pages[4]) / float64(pages[2])
		if prune && grew > 1.1 {
			t.Errorf("with retention the file still grows: pages per round %v", pages)
		}
		if !prune && grew < 1.3 {
			t.Errorf("the test load does not grow the file without retention: %v", pages)
		}
		if prune {
			checkConsistent(t, db)
		}
	}
}

// TestBackupDuringIngest: a backup taken while stories are saved and
// clustered opens as a database of its own, sound and consistent.
func TestBackupDuringIngest(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	r := rand.New(rand.NewPCG(2, 2))
	fs := []store.Feed{addFeed(t, db, "https://a.example/f"), addFeed(t, db, "https://b.example/f")}
	n := 0
	dayOfNews(t, db, fs, 0, 50, r, &n)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for day := 1; day <= 6; day++ {
			dayOfNews(t, db, fs, day, 50, r, &n)
		}
	}()
	path := filepath.Join(t.TempDir(), "backup.db")
	err := db.Backup(ctx, path)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, path); err == nil {
		t.Error("a second backup overwrote the first")
	}
	b := openAt(t, path)
	checkConsistent(t, b)
	var inBackup, inDB, feedsInBackup int
	b.raw.QueryRow("SELECT COUNT(*) FROM entries").Scan(&inBackup)
	b.raw.QueryRow("SELECT COUNT(*) FROM feeds").Scan(&feedsInBackup)
	db.raw.QueryRow("SELECT COUNT(*) FROM entries").Scan(&inDB)
	if inBackup < 100 || inBackup > inDB || inBackup%50 != 0 || feedsInBackup != 2 {
		t.Errorf("backup has %d entries and %d feeds; the database %d entries (whole polls of 50 expected)", inBackup, feedsInBackup, inDB)
	}
}
