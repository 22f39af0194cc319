package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// BenchmarkParseSave50 measures what the single writer's side of a poll
// costs for one 50-item feed: parse and normalize the document, then save
// it, clustering included, into a database that already holds stories.
// Each iteration is a new feed, so every item is new and clustered.
func BenchmarkParseSave50(b *testing.B) {
	body, err := os.ReadFile("../../../../feeds/testdata/bench50.xml")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db := openAt(b, filepath.Join(b.TempDir(), "bench.db"))
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	items := 0
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		f, err := db.AddFeed(ctx, store.NewFeed{URL: fmt.Sprintf("https://bench%d.example/feed", i)})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		doc, err := feeds.Parse(body, f.URL, now)
		if err != nil {
			b.Fatal(err)
		}
		st, err := db.SavePoll(ctx, store.PollResult{FeedID: f.ID, PolledAt: now, Status: 200, Entries: doc.Entries})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.ClusterPending(ctx); err != nil {
			b.Fatal(err)
		}
		items += st.New
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}
