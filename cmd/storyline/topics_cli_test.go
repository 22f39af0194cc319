package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLITopicsSearchRecluster runs the storyline commands on the polled
// demo corpus and checks their JSON: the documented fields are there and
// agree with each other.
func TestCLITopicsSearchRecluster(t *testing.T) {
	srv := startDemo(t)
	db := filepath.Join(t.TempDir(), "t.db")
	for _, u := range srv.URLs() {
		mustRun(t, "--db", db, "add", u)
	}
	mustRun(t, "--db", db, "poll")

	var topics []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, "--db", db, "topics", "--json", "--min-size", "2")), &topics); err != nil {
		t.Fatal(err)
	}
	if len(topics) < 5 {
		t.Fatalf("%d topics of 2+ stories from the demo corpus", len(topics))
	}
	for _, tp := range topics {
		for _, k := range []string{"id", "name", "headline", "size", "outlets", "first_seen", "last_seen"} {
			if _, ok := tp[k]; !ok {
				t.Errorf("topic without %q: %v", k, tp)
			}
		}
		if tp["size"].(float64) < 2 {
			t.Errorf("--min-size 2 listed %v", tp)
		}
	}

	// One topic in full: its stories are its size, each with the fields.
	id := topics[0]["id"].(float64)
	var one struct {
		ID      float64          `json:"id"`
		Size    float64          `json:"size"`
		Outlets float64          `json:"outlets"`
		Stories []map[string]any `json:"stories"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "--db", db, "topic", jsonNum(id), "--json")), &one); err != nil {
		t.Fatal(err)
	}
	if one.ID != id || len(one.Stories) != int(one.Size) {
		t.Errorf("topic %v: size %v, %d stories", id, one.Size, len(one.Stories))
	}
	outlets := map[string]bool{}
	for _, st := range one.Stories {
		for _, k := range []string{"id", "title", "link", "outlet", "published"} {
			if v, ok := st[k]; !ok || v == "" {
				t.Errorf("story without %q: %v", k, st)
			}
		}
		outlets[st["outlet"].(string)] = true
	}
	if len(outlets) != int(one.Outlets) {
		t.Errorf("topic says %v outlets, its stories have %d", one.Outlets, len(outlets))
	}

	// Entries carry their topic.
	var es []map[string]any
	mustJSON(t, mustRun(t, "--db", db, "entries", "--json", "--limit", "0"), &es)
	inTopic := 0
	for _, e := range es {
		if e["topic_id"] == id {
			inTopic++
		}
	}
	if inTopic != int(one.Size) {
		t.Errorf("%d entries with topic_id %v, topic size %v", inTopic, id, one.Size)
	}

	// Search finds the Geneva stories, each with its storyline.
	var hits []map[string]any
	mustJSON(t, mustRun(t, "--db", db, "search", "Geneva", "--json"), &hits)
	if len(hits) < 5 {
		t.Errorf("search Geneva: %d hits", len(hits))
	}
	for _, h := range hits {
		if h["topic_id"] == nil || h["topic"] == "" {
			t.Errorf("hit without its storyline: %v", h)
		}
	}
	if out, _, err := runCLI(t, "--db", db, "search", "--json", `"`); err == nil && out != "" && !strings.HasPrefix(out, "[") {
		t.Errorf("search for a lone quote: %q", out)
	}

	// Recluster rebuilds the topics from the stored entries in time order
	// (the poll above clustered them in whatever batches the fetches
	// finished in); doing it twice gives the same topics.
	out := mustRun(t, "--db", db, "recluster")
	if !strings.Contains(out, "reclustered 61 entries") {
		t.Errorf("recluster: %q", out)
	}
	// Each recluster numbers its topics after every ID handed out before,
	// so the IDs differ and the rest must not.
	withoutIDs := func(js string) string {
		var ts []map[string]any
		if err := json.Unmarshal([]byte(js), &ts); err != nil {
			t.Fatal(err)
		}
		for _, tp := range ts {
			delete(tp, "id")
		}
		b, _ := json.Marshal(ts)
		return string(b)
	}
	firstJSON := mustRun(t, "--db", db, "topics", "--json", "--limit", "0")
	first := withoutIDs(firstJSON)
	mustRun(t, "--db", db, "recluster")
	if again := withoutIDs(mustRun(t, "--db", db, "topics", "--json", "--limit", "0")); again != first {
		t.Errorf("recluster is not deterministic:\n%s\n---\n%s", first, again)
	}
	// An ID of the replaced clustering still finds its storyline.
	var old []map[string]any
	mustJSON(t, firstJSON, &old)
	oldID := jsonNum(old[0]["id"].(float64))
	out, stderr, err := runCLI(t, "--db", db, "topic", oldID)
	if err != nil || !strings.Contains(stderr, "topic "+oldID+" is now topic") || !strings.Contains(out, old[0]["headline"].(string)) {
		t.Errorf("topic %s after recluster: err %v, stderr %q, stdout %q", oldID, err, stderr, out)
	}
	var rebuilt []map[string]any
	mustJSON(t, mustRun(t, "--db", db, "topics", "--json", "--min-size", "2"), &rebuilt)
	if len(rebuilt) < 5 {
		t.Errorf("%d topics of 2+ stories after recluster", len(rebuilt))
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestCLIEval scores a small labelled file of our own and writes the
// assignments.
func TestCLIEval(t *testing.T) {
	out := filepath.Join(t.TempDir(), "assign.tsv")
	var rep map[string]float64
	if err := json.Unmarshal([]byte(mustRun(t, "eval", "--input", "testdata/eval_small.jsonl", "--assignments", out, "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"bcubed_precision", "bcubed_recall", "bcubed_f1", "pairwise_precision", "pairwise_recall",
		"pairwise_f1", "ari", "nmi", "predicted_clusters", "gold_clusters", "docs_per_second"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("eval --json without %q", k)
		}
	}
	if rep["gold_clusters"] != 3 || rep["bcubed_f1"] < 0.8 {
		t.Errorf("three plainly separate events: %v", rep)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 12 || !strings.Contains(lines[0], "\t") {
		t.Errorf("assignments: %q", b)
	}
	text := mustRun(t, "eval", "--input", "testdata/eval_small.jsonl")
	for _, w := range []string{"B-cubed", "pairwise", "ARI", "NMI", "clusters", "docs/s"} {
		if !strings.Contains(text, w) {
			t.Errorf("eval output lacks %q:\n%s", w, text)
		}
	}
	if _, _, err := runCLI(t, "eval", "--input", "testdata/nope.jsonl"); err == nil {
		t.Error("eval of a missing file succeeded")
	}
}

// TestCLIEvalOrders scores a file in several seeded orders: one order moves
// the scores, so the mean and range are what a change is judged on.
func TestCLIEvalOrders(t *testing.T) {
	var sp struct {
		Orders   int `json:"orders"`
		Docs     int `json:"docs"`
		BCubedF1 struct {
			Mean, Min, Max float64
		} `json:"bcubed_f1"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "eval", "--input", "testdata/eval_small.jsonl", "--shuffle", "3", "--orders", "4", "--json")), &sp); err != nil {
		t.Fatal(err)
	}
	f := sp.BCubedF1
	if sp.Orders != 4 || sp.Docs != 12 || f.Min > f.Mean || f.Mean > f.Max || f.Min < 0.8 {
		t.Errorf("4 orders of three plainly separate events: %+v", sp)
	}
	text := mustRun(t, "eval", "--input", "testdata/eval_small.jsonl", "--shuffle", "3", "--orders", "4")
	for _, w := range []string{"4 orders (seeds 3-6)", "B-cubed F1", "mean", "max", "(3 gold)"} {
		if !strings.Contains(text, w) {
			t.Errorf("eval --orders output lacks %q:\n%s", w, text)
		}
	}
	// One shuffled order is an ordinary run, with its assignments.
	out := filepath.Join(t.TempDir(), "assign.tsv")
	mustRun(t, "eval", "--input", "testdata/eval_small.jsonl", "--shuffle", "3", "--assignments", out)
	if b, err := os.ReadFile(out); err != nil || strings.Count(string(b), "\n") != 12 {
		t.Errorf("assignments of a shuffled run: %q, %v", b, err)
	}
	for _, args := range [][]string{
		{"--orders", "2"},
		{"--shuffle", "1", "--orders", "0"},
		{"--shuffle", "1", "--orders", "2", "--assignments", out},
		{"--shuffle", "1", "--orders", "100000000000000"},
		// The second seed would wrap round to 0, the file's order.
		{"--shuffle", "18446744073709551615", "--orders", "2"},
	} {
		if _, _, err := runCLI(t, append([]string{"eval", "--input", "testdata/eval_small.jsonl"}, args...)...); err == nil {
			t.Errorf("eval %v succeeded", args)
		}
	}
}
