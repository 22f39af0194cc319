package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// TestClusterPendingWriteFails: when a write of the clustering fails
// (here a trigger refuses the first story's membership, and the split
// checks that follow read the transaction), ClusterPending names the
// failed write, nothing of the batch is kept, every story stays pending,
// and the next call clusters them as if nothing had failed, topic IDs and
// all.
func TestClusterPendingWriteFails(t *testing.T) {
	ctx := context.Background()
	stream := mixedStream()
	build := func(fail bool) map[string]string {
		cfg := cluster.DefaultConfig()
		cfg.SplitFactor = 4 // every topic of 6 to 24 stories is checked at every story
		db := openAt(t, filepath.Join(t.TempDir(), "test.db"), cfg)
		ids := streamFeeds(t, db, len(stream))
		for fi := range stream {
			if _, err := db.SavePoll(ctx, store.PollResult{FeedID: ids[fi], PolledAt: t0, Status: 200, Entries: stream[fi]}); err != nil {
				t.Fatal(err)
			}
		}
		if !fail {
			clusterPending(t, db)
			return topicsOf(t, db)
		}
		var pending, victim int64
		if err := db.raw.QueryRow(`SELECT (SELECT COUNT(*) FROM pending_entries), (SELECT e.id FROM pending_entries p
			JOIN entries e ON e.id = p.entry_id ORDER BY e.published_at, e.id LIMIT 1)`).Scan(&pending, &victim); err != nil {
			t.Fatal(err)
		}
		if _, err := db.raw.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON topic_entries
			WHEN NEW.entry_id = ` + fmt.Sprint(victim) + ` BEGIN SELECT RAISE(ABORT, 'refused by test'); END`); err != nil {
			t.Fatal(err)
		}
		_, err := db.ClusterPending(ctx)
		if err == nil || !strings.Contains(err.Error(), "refused by test") || !strings.Contains(err.Error(), "entry "+fmt.Sprint(victim)) ||
			strings.Contains(err.Error(), "read the stories") {
			t.Fatalf("ClusterPending with a refused write = %v, want the refusal and the entry, not a read", err)
		}
		var left, members, topics int64
		if err := db.raw.QueryRow(`SELECT (SELECT COUNT(*) FROM pending_entries), (SELECT COUNT(*) FROM topic_entries),
			(SELECT COUNT(*) FROM topics)`).Scan(&left, &members, &topics); err != nil {
			t.Fatal(err)
		}
		if left != pending || members != 0 || topics != 0 {
			t.Fatalf("after the failure: %d of %d stories pending, %d memberships, %d topics; want all pending, none kept",
				left, pending, members, topics)
		}
		if _, err := db.raw.Exec("DROP TRIGGER refuse"); err != nil {
			t.Fatal(err)
		}
		clusterPending(t, db)
		return topicsOf(t, db)
	}
	want, got := build(false), build(true)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("clustered after a failure:\n got %v\nwant %v", got, want)
	}
}

// mixedStream is a made-up stream of outlets reporting storylines in
// pairs of one kind (the same words, other names), so that topics grow
// into the split range, take in strangers, split and merge. Each outlet
// reports a bit of everything, at times spread over two days.
func mixedStream() [][]feeds.Entry {
	r := rand.New(rand.NewPCG(7, 11))
	kinds := [][]string{
		strings.Fields("strike workers union wages"),
		strings.Fields("flood river rain evacuated"),
		strings.Fields("election vote ballot candidate"),
	}
	own := [][]string{
		strings.Fields("factory picket walkout shift pay talks"),
		strings.Fields("docks port cranes ships cargo overtime"),
		strings.Fields("homes rescue levels storm roads boats"),
		strings.Fields("dam valley farms bridge sandbags pumps"),
		strings.Fields("polls campaign turnout seats rally debate"),
		strings.Fields("recount court appeal fraud judge ruling"),
	}
	names := [][2]string{{"Valdoria", "Harrowfield"}, {"Ostrava", "Kellner"}, {"Brisk", "Amundsen"},
		{"Tamsin", "Oakhurst"}, {"Corvale", "Pemberton"}, {"Lindqvist", "Marrow"}}
	common := strings.Fields("said on the after a new in for report officials local week monday people city")
	start := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	out := make([][]feeds.Entry, 8)
	for o := range out {
		for k := range 30 {
			s := r.IntN(len(names))
			kind := kinds[s/2]
			pick := func(n int, from []string) []string {
				w := make([]string, n)
				for i := range w {
					w[i] = from[r.IntN(len(from))]
				}
				return w
			}
			title := strings.Join(slices.Concat(names[s][:], pick(2, own[s]), pick(2, kind)), " ")
			text := strings.Join(slices.Concat([]string{names[s][r.IntN(2)]}, pick(5, own[s]), pick(3, kind), pick(6, common)), " ") + "."
			if r.IntN(3) == 0 {
				// A story that also tells of its sibling event, or only of
				// what the two have in common: a stranger where it joins.
				title = strings.Join(slices.Concat(names[s][:1], pick(4, kind)), " ")
				text = strings.Join(slices.Concat(pick(3, own[s^1]), pick(2, own[s]), pick(5, kind), pick(6, common)), " ") + "."
			}
			out[o] = append(out[o], feeds.Entry{
				ID: fmt.Sprintf("o%d-%d", o, k), Title: title, Text: text,
				Link:      fmt.Sprintf("https://o%d.example/%d", o, k),
				Published: start.Add(time.Duration(r.IntN(48*60)) * time.Minute),
			})
		}
	}
	return out
}
