package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// The stored last topic ID must cover every ID the clusterer handed out,
// including topics merged away within the batch that opened them: a
// reloaded clusterer must never hand an ID out twice.
func TestLastTopicIDNeverReused(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		db := openTest(t)
		f := addFeed(t, db, fmt.Sprintf("https://x.example/%d", seed))
		n := 0
		for batch := 0; batch < 6; batch++ {
			var es []feeds.Entry
			for i := 0; i < 15; i++ {
				n++
				es = append(es, randomEntry(r, n))
			}
			if _, err := db.SavePolls(ctx, []store.PollResult{{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: es}}); err != nil {
				t.Fatal(err)
			}
			clusterPending(t, db)
			var persisted int64
			db.raw.QueryRow("SELECT last_topic_id FROM cluster_meta").Scan(&persisted)
			if mem := db.clusterer.Snapshot().LastTopicID; mem != persisted {
				t.Fatalf("seed %d batch %d: clusterer handed out topic IDs up to %d, database last_topic_id %d", seed, batch, mem, persisted)
			}
		}
	}
}

// Recluster reports the topics that exist afterwards, not every ID opened
// on the way (some are merged away).
func TestReclusterCountsSurvivingTopics(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 7))
	db := openTest(t)
	f := addFeed(t, db, "https://x.example/f")
	var es []feeds.Entry
	for n := 1; n <= 90; n++ {
		es = append(es, randomEntry(r, n))
	}
	if _, err := db.SavePolls(ctx, []store.PollResult{{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: es}}); err != nil {
		t.Fatal(err)
	}
	_, nt, err := db.Recluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var have int
	db.raw.QueryRow("SELECT COUNT(*) FROM topics").Scan(&have)
	if nt != have {
		t.Errorf("Recluster reports %d topics, the table has %d", nt, have)
	}
}

var randomWords = strings.Fields("harbour bridge ship collision closed cargo chess final valdoria champion snow pass northern storm bank rate orland markets hike talks geneva peace minister resigns election vote")

// randomEntry is the nth story of a random stream: three to six words from
// a window of six neighbours in randomWords, so that stories overlap enough
// to join, merge and split; one every ten minutes from two days before t0.
func randomEntry(r *rand.Rand, n int) feeds.Entry {
	ws := make([]string, 3+r.IntN(4))
	base := r.IntN(len(randomWords) - 6)
	for j := range ws {
		ws[j] = randomWords[base+r.IntN(6)]
	}
	h := strings.Join(ws, " ")
	return feeds.Entry{ID: fmt.Sprint(n), Link: fmt.Sprintf("https://x.example/a/%d", n), Title: h, Text: h + ".",
		Published: t0.Add(-48*time.Hour + time.Duration(n)*10*time.Minute)}
}
