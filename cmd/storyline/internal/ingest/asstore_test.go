package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// TestPipelineAsStore: the pipeline clusters, edits, removes, reclusters
// and prunes as store.DB's own clustering did, topic IDs and all.
func TestPipelineAsStore(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	open := func(name string) *store.DB {
		db, err := store.Open(ctx, filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		db.Now = func() time.Time { return t0 }
		t.Cleanup(func() { db.Close() })
		return db
	}
	type writes interface {
		SavePoll(ctx context.Context, r store.PollResult) (store.SaveStats, error)
		ClusterPending(ctx context.Context) (int, error)
		Recluster(ctx context.Context) (int, int, error)
		RemoveFeed(ctx context.Context, idOrURL string) (store.Feed, error)
		Prune(ctx context.Context, r store.Retention) (store.PruneStats, error)
	}
	old, viaPipeline := open("store.db"), open("pipeline.db")
	cfg := cluster.DefaultConfig()
	cfg.SplitFactor = 4
	old.SetClusterConfig(cfg)
	dbs := []*store.DB{old, viaPipeline}
	ws := []writes{old, New(viaPipeline, cfg)}
	start := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	heads := []string{"Harbour bridge closed after cargo ship collision", "Valdoria wins national chess final",
		"Cargo ship strikes harbour bridge", "Chess final: Valdoria takes the title", "Snow closes mountain passes",
		"Harbour bridge to stay closed for weeks", "Snowstorm shuts northern passes", "Valdoria crowned chess champion"}
	for i := range dbs {
		for f := range 3 {
			if _, err := dbs[i].AddFeed(ctx, store.NewFeed{URL: fmt.Sprintf("https://o%d.example/feed", f)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var es [3][]feeds.Entry
	state := func(step string) {
		t.Helper()
		var got [2][]string
		for i, db := range dbs {
			ents, err := db.Entries(ctx, store.EntryQuery{})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				got[i] = append(got[i], fmt.Sprint(e.Entry.ID, "@", e.TopicID))
			}
			ts, _ := db.Topics(ctx, store.TopicQuery{})
			got[i] = append(got[i], fmt.Sprintf("%+v", ts))
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Fatalf("%s: store %v\npipeline %v", step, got[0], got[1])
		}
	}
	do := func(step string, fn func(w writes) error) {
		t.Helper()
		for _, w := range ws {
			if err := fn(w); err != nil {
				t.Fatalf("%s: %v", step, err)
			}
		}
		state(step)
	}
	for k := range 24 {
		f := k % 3
		h := heads[k%len(heads)]
		es[f] = append(es[f], feeds.Entry{ID: fmt.Sprint("e", k), Link: fmt.Sprintf("https://o%d.example/%d", f, k),
			Title: h, Text: h + ". More later.", Published: start.Add(time.Duration(k) * 3 * time.Hour)})
		do(fmt.Sprint("poll ", k), func(w writes) error {
			if _, err := w.SavePoll(ctx, store.PollResult{FeedID: int64(f + 1), PolledAt: t0, Status: 200, Entries: es[f]}); err != nil {
				return err
			}
			_, err := w.ClusterPending(ctx)
			return err
		})
	}
	es[1][2].Title = "Chess final: Valdoria takes the national title, a record"
	do("edit", func(w writes) error {
		_, err := w.SavePoll(ctx, store.PollResult{FeedID: 2, PolledAt: t0, Status: 200, Entries: es[1]})
		return err
	})
	do("remove", func(w writes) error { _, err := w.RemoveFeed(ctx, "3"); return err })
	do("recluster", func(w writes) error { _, _, err := w.Recluster(ctx); return err })
	do("prune", func(w writes) error { _, err := w.Prune(ctx, store.Retention{MaxPerFeed: 3}); return err })
}
