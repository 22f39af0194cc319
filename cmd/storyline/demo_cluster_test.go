package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite golden files")

// demoLabels reads which storyline each demo item belongs to, keyed by
// "file guid".
func demoLabels(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("internal/demo/testdata/LABELS.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	labels := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) == 3 {
			labels[parts[0]+" "+parts[1]] = parts[2]
		}
	}
	return labels
}

// TestDemoStorylines polls the demo corpus through the CLI and checks the
// storylines a reader would see: the three peace-process stories kept
// apart, each gathering its outlets, the unrelated stories each in one
// topic, and names in readable words. The topics are also kept in a golden
// file (go test -update rewrites it) so that any change in assignment or
// labels shows up in review.
func TestDemoStorylines(t *testing.T) {
	srv := startDemo(t)
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Fetch and parse every feed, then save them in one batch, as a poll
	// of all five would: one batch is clustered in time order, so the
	// result does not depend on which fetch happened to finish first.
	fetcher := &feeds.Fetcher{UserAgent: "storyline-test"}
	var polls []store.PollResult
	for _, u := range srv.URLs() {
		f, err := s.AddFeed(ctx, store.NewFeed{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := fetcher.Fetch(ctx, feeds.Request{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := feeds.Parse(resp.Body, u, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		polls = append(polls, store.PollResult{FeedID: f.ID, PolledAt: time.Now(), Status: resp.Status,
			Title: doc.Title, Language: doc.Language, Entries: doc.Entries})
	}
	pipe := ingest.New(s, cluster.DefaultConfig())
	if _, err := pipe.SavePolls(ctx, polls); err != nil {
		t.Fatal(err)
	}
	if _, err := pipe.ClusterPending(ctx); err != nil {
		t.Fatal(err)
	}
	entries, err := s.Entries(ctx, store.EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	labels := demoLabels(t)
	if len(entries) != len(labels) {
		t.Fatalf("%d entries stored, LABELS.tsv has %d", len(entries), len(labels))
	}

	type member struct {
		key, label, outlet string
		title, text        string
	}
	byTopic := map[int64][]member{}
	byLabel := map[string]map[int64]int{}
	for _, e := range entries {
		key := path.Base(e.FeedURL) + " " + e.Entry.ID
		label, ok := labels[key]
		if !ok {
			t.Fatalf("entry %q is not in LABELS.tsv", key)
		}
		byTopic[e.TopicID] = append(byTopic[e.TopicID], member{key, label, e.FeedTitle, e.Entry.Title, e.Entry.Text})
		if byLabel[label] == nil {
			byLabel[label] = map[int64]int{}
		}
		byLabel[label][e.TopicID]++
	}
	// main returns the topic holding most of a storyline's stories.
	main := func(label string) (int64, int) {
		var best int64
		n := 0
		for id, c := range byLabel[label] {
			if c > n || c == n && id < best {
				best, n = id, c
			}
		}
		return best, n
	}
	total := func(label string) int {
		n := 0
		for _, c := range byLabel[label] {
			n += c
		}
		return n
	}
	outlets := func(id int64) int {
		seen := map[string]bool{}
		for _, m := range byTopic[id] {
			seen[m.outlet] = true
		}
		return len(seen)
	}
	purity := func(id int64, label string) float64 {
		n := 0
		for _, m := range byTopic[id] {
			if m.label == label {
				n++
			}
		}
		return float64(n) / float64(len(byTopic[id]))
	}

	mains := map[int64]string{}
	for _, tc := range []struct {
		label      string
		minShare   float64 // of the storyline's stories in its main topic
		minOutlets int
	}{
		{"geneva", 0.8, 4},
		{"strikes", 0.8, 4},
		{"e3", 0.8, 4},
		{"tech", 1, 3},
		{"sport", 1, 3},
		{"weather", 1, 3},
	} {
		id, n := main(tc.label)
		if other, dup := mains[id]; dup {
			t.Errorf("%s and %s share topic %d", tc.label, other, id)
		}
		mains[id] = tc.label
		if share := float64(n) / float64(total(tc.label)); share < tc.minShare {
			t.Errorf("%s: main topic %d holds %d of %d stories (%.0f%%), want at least %.0f%%",
				tc.label, id, n, total(tc.label), 100*share, 100*tc.minShare)
		}
		if o := outlets(id); o < tc.minOutlets {
			t.Errorf("%s: main topic %d has %d outlets, want %d", tc.label, id, o, tc.minOutlets)
		}
		if p := purity(id, tc.label); p < 0.9 {
			t.Errorf("%s: main topic %d is only %.0f%% %s stories", tc.label, id, 100*p, tc.label)
		}
	}
	// No topic mixes the peace-process storylines: they share much of their
	// vocabulary, which is the point of the corpus.
	for id, ms := range byTopic {
		peace := map[string]bool{}
		for _, m := range ms {
			if m.label == "geneva" || m.label == "e3" || m.label == "strikes" {
				peace[m.label] = true
			}
		}
		if len(peace) > 1 {
			t.Errorf("topic %d mixes %v", id, peace)
		}
	}

	// Names are words a reader saw in the stories, not stems.
	ts, err := s.Topics(ctx, store.TopicQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var golden strings.Builder
	sort.Slice(ts, func(i, j int) bool { return ts[i].ID < ts[j].ID })
	for _, tp := range ts {
		var corpus strings.Builder
		for _, m := range byTopic[tp.ID] {
			corpus.WriteString(m.title + " " + m.text + " ")
		}
		for _, w := range strings.Fields(tp.Name) {
			if !regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(w) + `\b`).MatchString(corpus.String()) {
				t.Errorf("topic %d name %q: %q is not a word of its stories", tp.ID, tp.Name, w)
			}
		}
		if tp.Name == "" || tp.Headline == "" {
			t.Errorf("topic %d: name %q, headline %q", tp.ID, tp.Name, tp.Headline)
		}
		var keys []string
		for _, m := range byTopic[tp.ID] {
			keys = append(keys, m.label+" "+m.key)
		}
		sort.Strings(keys)
		fmt.Fprintf(&golden, "topic %d: %s\n  headline: %s\n  %d stories, %d outlets\n", tp.ID, tp.Name, tp.Headline, tp.Size, tp.Outlets)
		for _, k := range keys {
			fmt.Fprintf(&golden, "  %s\n", k)
		}
	}
	const goldenFile = "testdata/demo_topics.golden"
	if *update {
		if err := os.WriteFile(goldenFile, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if golden.String() != string(want) {
		t.Errorf("demo topics differ from %s (go test -update rewrites it after review):\n%s", goldenFile, golden.String())
	}
}
