// Package storetest is the one specification of what a storage backend
// does, as a test suite that takes a backend's constructor: store/sqlite
// and store/postgres both run it, so that everything above the store
// (the ingest pipeline, the web handlers, the CLI) behaves the same on
// either. A behaviour that only one backend has is tested beside that
// backend, not here.
package storetest

import (
	"context"
	"fmt"
	"iter"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/store"
)

// Store is what a backend's database offers the rest of storyline, as the
// suite exercises it.
type Store interface {
	AddFeed(ctx context.Context, nf store.NewFeed) (store.Feed, error)
	AddFeeds(ctx context.Context, nfs iter.Seq2[store.NewFeed, error]) (added, existing int, err error)
	SyncFeeds(ctx context.Context, nfs []store.NewFeed) (int, error)
	MoveFeed(ctx context.Context, id int64, newURL string) error
	UpdateFeed(ctx context.Context, id int64, u store.FeedUpdate) (store.Feed, error)
	Feed(ctx context.Context, idOrURL string) (store.Feed, error)
	Feeds(ctx context.Context) ([]store.Feed, error)
	DueFeeds(ctx context.Context, now time.Time, all bool) ([]store.Feed, error)
	NextPollAt(ctx context.Context) (time.Time, error)

	Entries(ctx context.Context, q store.EntryQuery) ([]store.StoredEntry, error)
	Entry(ctx context.Context, id int64) (store.StoredEntry, error)
	Search(ctx context.Context, query string, limit int) ([]store.StoredEntry, error)

	Topics(ctx context.Context, q store.TopicQuery) ([]store.Topic, error)
	Topic(ctx context.Context, id int64) (store.Topic, error)
	CountTopics(ctx context.Context, since time.Time, minSize int) (int, error)
	TopicMovedTo(ctx context.Context, id int64) (int64, error)
	TopicOutlets(ctx context.Context, topicIDs []int64) (map[int64][]store.OutletCount, error)

	DataVersion(ctx context.Context) (store.DataVersion, error)
	WriteTx(ctx context.Context, fn func(store.Tx) error) error
	PruneCandidates(ctx context.Context, r store.Retention) ([]int64, error)
	AnalyzerStale(ctx context.Context) (stored int, stale bool, err error)

	Export(ctx context.Context, fn func(*store.Export) error) error
	Import(ctx context.Context, x *store.Export) (store.Counts, error)
}

// Open opens a new, empty database of the backend under test whose clock
// is now, and closes it when the test ends.
type Open func(t *testing.T, now func() time.Time) Store

// T0 is the suite's clock at the start of each test.
var T0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// Run runs the whole suite against the backend that open makes.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"AddRemoveFeed", testAddRemoveFeed},
		{"AddFeedsStreamed", testAddFeedsStreamed},
		{"MoveFeed", testMoveFeed},
		{"UpdateFeed", testUpdateFeed},
		{"SavePollIdempotent", testSavePollIdempotent},
		{"SavePollDuplicateIDsInOneDocument", testSavePollDuplicateIDs},
		{"SavePollFeedState", testSavePollFeedState},
		{"DueFeedsOrder", testDueFeedsOrder},
		{"DataVersion", testDataVersion},
		{"AddFeedAfterRedirect", testAddFeedAfterRedirect},
		{"SavePollsFeedRemoved", testSavePollsFeedRemoved},
		{"SyncFeeds", testSyncFeeds},
		{"FeedCredentialsKeptApart", testFeedCredentialsKeptApart},
		{"EntryImageStored", testEntryImageStored},
		{"EntriesQuery", testEntriesQuery},
		{"Search", testSearch},
		{"SearchChineseJapanese", testSearchChineseJapanese},
		{"WriteTxRollsBack", testWriteTxRollsBack},
		{"Storylines", testStorylines},
		{"StoriesCountArticlesOnce", testStoriesCountArticlesOnce},
		{"ClusterStateRoundTrip", testClusterStateRoundTrip},
		{"ReclusterKeepsTopicIDs", testReclusterKeepsTopicIDs},
		{"EditOfAClusteredStory", testEditOfAClusteredStory},
		{"DeleteEntries", testDeleteEntries},
		{"DeleteFeed", testDeleteFeed},
		{"WritesInOrder", testWritesInOrder},
		{"PruneCandidates", testPruneCandidates},
		{"Migrate", func(t *testing.T, open Open) { RunMigrate(t, open, open) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// openAt opens a database whose clock stands at T0 until the test moves
// it through the returned pointer.
func openAt(t *testing.T, open Open) (Store, *time.Time) {
	t.Helper()
	now := T0
	return open(t, func() time.Time { return now }), &now
}

func addFeed(t *testing.T, db Store, url string) store.Feed {
	t.Helper()
	f, err := db.AddFeed(context.Background(), store.NewFeed{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// WriteDB is the part of a backend the helpers below write through.
type WriteDB interface {
	WriteTx(ctx context.Context, fn func(store.Tx) error) error
}

// SavePolls saves polls in one write transaction, as the ingest pipeline
// does, and clusters nothing: new stories stay pending. An edit to a
// clustered story is refused, since only the pipeline can follow it.
func SavePolls(ctx context.Context, db WriteDB, rs []store.PollResult) ([]store.SaveStats, error) {
	out := make([]store.SaveStats, len(rs))
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		for i, r := range rs {
			st, edits, err := tx.SavePoll(ctx, r)
			if err != nil {
				return err
			}
			if len(edits) > 0 {
				return fmt.Errorf("feed %d: %d edits to clustered stories, which only the pipeline follows", r.FeedID, len(edits))
			}
			out[i] = st
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SavePoll is SavePolls of one poll.
func SavePoll(ctx context.Context, db WriteDB, r store.PollResult) (store.SaveStats, error) {
	st, err := SavePolls(ctx, db, []store.PollResult{r})
	if err != nil {
		return store.SaveStats{}, err
	}
	return st[0], nil
}

// RemoveFeed deletes a feed, given its ID or URL, with its entries, as
// the pipeline's RemoveFeed does before it rebuilds their storylines.
func RemoveFeed(ctx context.Context, db WriteDB, idOrURL string) (store.Feed, error) {
	var f store.Feed
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		var err error
		if f, err = tx.Feed(ctx, idOrURL); err != nil {
			return err
		}
		_, err = tx.DeleteFeed(ctx, f.ID)
		return err
	})
	return f, err
}

// ClusterStories clusters the pending stories (all stories, from scratch,
// when all is set, as a recluster does) with a clusterer of its own,
// through the Tx primitives in the order the ingest pipeline uses them,
// without its batching, edits and generation check: a whole clustering
// cycle of the primitives, for the tests that need storylines.
func ClusterStories(t *testing.T, db WriteDB, all bool) {
	t.Helper()
	ctx := context.Background()
	cfg := cluster.DefaultConfig()
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		var c *cluster.Clusterer
		var docs []cluster.Document
		if all {
			last, err := tx.ResetClustering(ctx)
			if err != nil {
				return err
			}
			c = cluster.New(cfg, &cluster.State{LastTopicID: last})
			if docs, err = tx.AllDocs(ctx); err != nil {
				return err
			}
		} else {
			st, err := tx.LoadClusterState(ctx, cfg.Window+cfg.History)
			if err != nil {
				return err
			}
			c = cluster.New(cfg, st)
			if docs, err = tx.PendingDocs(ctx, math.MaxInt32); err != nil {
				return err
			}
		}
		m := store.Memberships(ctx, tx)
		df := map[string]int64{}
		for _, d := range docs {
			a := c.Add(d)
			if a.SplitCheck != 0 {
				members, err := tx.TopicDocs(ctx, a.SplitCheck)
				if err != nil {
					return err
				}
				a = c.CheckSplit(members)
			}
			for _, term := range a.DocFreqTerms {
				df[term]++
			}
			if err := a.Apply(m); err != nil {
				return err
			}
			id, _ := strconv.ParseInt(d.ID, 10, 64)
			if err := tx.MarkClustered(ctx, id); err != nil {
				return err
			}
		}
		if err := tx.AddDocFreqs(ctx, df); err != nil {
			return err
		}
		var clock time.Time
		if err := c.Changed(func(ts cluster.TopicState) error {
			if ts.Last.After(clock) {
				clock = ts.Last
			}
			return tx.SaveTopic(ctx, ts)
		}); err != nil {
			return err
		}
		if _, err := tx.SaveClusterCounters(ctx, store.ClusterCounters{Docs: int64(len(docs)), LastTopicID: c.LastTopicID(), Clock: clock}); err != nil {
			return err
		}
		if all {
			return tx.KeepTopicIDs(ctx)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
