package sqlite

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/store"
)

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

// savePolls saves polls in one write transaction, as the ingest pipeline
// does, and clusters nothing: new stories stay pending. An edit to a
// clustered story is refused, since only the pipeline can follow it.
func savePolls(ctx context.Context, db *DB, rs []store.PollResult) ([]store.SaveStats, error) {
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

// savePoll is savePolls of one poll.
func savePoll(ctx context.Context, db *DB, r store.PollResult) (store.SaveStats, error) {
	st, err := savePolls(ctx, db, []store.PollResult{r})
	if err != nil {
		return store.SaveStats{}, err
	}
	return st[0], nil
}

// removeFeed deletes a feed, given its ID or URL, with its entries, as
// the pipeline's RemoveFeed does before it rebuilds their storylines.
func removeFeed(ctx context.Context, db *DB, idOrURL string) (store.Feed, error) {
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

// clusterStories clusters the pending stories (all stories, from scratch,
// when all is set, as a recluster does) with a clusterer of its own,
// through the Tx primitives in the order the ingest pipeline uses them,
// without its batching, edits and generation check: a whole clustering
// cycle of the primitives, for the tests here that need storylines.
func clusterStories(t *testing.T, db *DB, all bool) {
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
