package ingest

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// testDB is a database with its pipeline, as a process wires them: its
// reads are the store's, its writes the pipeline's. raw is a connection
// of its own to the file, for the checks that read (or break) the tables
// themselves.
type testDB struct {
	*sqlite.DB
	*Pipeline
	raw *sql.DB
}

// openAt opens the database at path with a pipeline clustering with cfg
// (the default when none is given).
func openAt(t testing.TB, path string, cfg ...cluster.Config) *testDB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	c := cluster.DefaultConfig()
	if len(cfg) > 0 {
		c = cfg[0]
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	x := &testDB{DB: db, Pipeline: New(db, c), raw: raw}
	t.Cleanup(func() { x.Close() })
	return x
}

// Close closes the database and the raw connection; a second Close does
// nothing.
func (x *testDB) Close() error {
	x.raw.Close()
	return x.DB.Close()
}

// openTest opens a new database whose clock is t0.
func openTest(t testing.TB) *testDB {
	t.Helper()
	db := openAt(t, filepath.Join(t.TempDir(), "test.db"))
	now := t0
	db.Now = func() time.Time { return now }
	return db
}

func addFeed(t testing.TB, db *testDB, url string) store.Feed {
	t.Helper()
	f, err := db.AddFeed(context.Background(), store.NewFeed{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// savePoll stores a successful poll of feed that returned es, and
// clusters its new stories, as the poller does.
func savePoll(t testing.TB, db *testDB, feed int64, es ...feeds.Entry) {
	t.Helper()
	if _, err := db.SavePoll(context.Background(), store.PollResult{FeedID: feed, PolledAt: t0, Status: 200, Entries: es}); err != nil {
		t.Fatal(err)
	}
	clusterPending(t, db)
}

// clusterPending clusters the stories saved and not clustered yet.
func clusterPending(t testing.TB, db *testDB) {
	t.Helper()
	if _, err := db.ClusterPending(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// clusterState reads the stored counters, document frequencies and, with
// span long enough, every topic's state.
func clusterState(t testing.TB, db *testDB, span time.Duration) *cluster.State {
	t.Helper()
	var st *cluster.State
	if err := db.WriteTx(context.Background(), func(tx store.Tx) (err error) {
		st, err = tx.LoadClusterState(context.Background(), span)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// termStatsOf reads the stored document frequencies.
func termStatsOf(t testing.TB, db *testDB) map[string]int64 {
	t.Helper()
	return clusterState(t, db, 0).DocFreq
}
