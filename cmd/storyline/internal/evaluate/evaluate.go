// Package evaluate scores the clustering on labelled JSON Lines files (the
// benchmark format: id, title, text, published, source, url, label). It feeds
// the documents through package cluster exactly as the daemon does, in file
// order (or in an order drawn from a seed, see Shuffle) and without the
// label, and compares the result with the gold labels.
package evaluate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/storyline/storyline/cluster"
)

// Record is one line of a benchmark file.
type Record struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Text      string     `json:"text"`
	Published *time.Time `json:"published"`
	Source    *string    `json:"source"`
	URL       *string    `json:"url"`
	Label     string     `json:"label"`
}

// Report holds the scores of one run.
type Report struct {
	Docs              int     `json:"docs"`
	BCubedPrecision   float64 `json:"bcubed_precision"`
	BCubedRecall      float64 `json:"bcubed_recall"`
	BCubedF1          float64 `json:"bcubed_f1"`
	PairwisePrecision float64 `json:"pairwise_precision"`
	PairwiseRecall    float64 `json:"pairwise_recall"`
	PairwiseF1        float64 `json:"pairwise_f1"`
	ARI               float64 `json:"ari"`
	NMI               float64 `json:"nmi"`
	PredictedClusters int     `json:"predicted_clusters"`
	GoldClusters      int     `json:"gold_clusters"`
	Seconds           float64 `json:"seconds"`
	DocsPerSecond     float64 `json:"docs_per_second"`
}

// Assignment is one document's predicted topic.
type Assignment struct {
	ID      string `json:"id"`
	TopicID int64  `json:"topic_id"`
}

// Options tune a run. The zero value reads times from the file and measures
// speed with the wall clock.
type Options struct {
	// Now is the clock used to measure speed; time.Now when nil.
	Now func() time.Time
}

// Run reads labelled documents from r, clusters them with cfg in file order
// and scores the result. Only the time spent clustering is measured, not the
// reading.
func Run(r io.Reader, cfg cluster.Config) (*Report, []Assignment, error) {
	return RunWith(r, cfg, Options{})
}

// RunWith is Run with options.
func RunWith(r io.Reader, cfg cluster.Config, opt Options) (*Report, []Assignment, error) {
	recs, err := Read(r)
	if err != nil {
		return nil, nil, err
	}
	return RunRecords(recs, cfg, opt)
}

// Read reads a labelled JSON Lines file. Every record needs an id, unique in
// the file, and a label: scoring against nothing would print perfect
// scores.
func Read(r io.Reader) ([]Record, error) {
	var recs []Record
	seen := make(map[string]bool)
	dec := json.NewDecoder(bufio.NewReader(r))
	for line := 1; ; line++ {
		var rec Record
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("evaluate: record %d: %w", line, err)
		}
		if rec.ID == "" {
			return nil, fmt.Errorf("evaluate: record %d: missing id", line)
		}
		if rec.Label == "" {
			return nil, fmt.Errorf("evaluate: record %d (%s): missing label: eval needs a labelled file", line, rec.ID)
		}
		if seen[rec.ID] {
			return nil, fmt.Errorf("evaluate: record %d: duplicate id %q", line, rec.ID)
		}
		seen[rec.ID] = true
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil, errors.New("evaluate: no documents in the input")
	}
	return recs, nil
}

// Shuffle returns a copy of recs in an order drawn from seed, without their
// publication times. A clustering that reads the order or the times of the
// UCI files is told the answer (each story is one block in time), and any
// one order moves the scores by about ±0.02, so a method is judged over
// several orders. The order depends on the seed alone (PCG from
// math/rand/v2), so it is the same on every machine running one build.
func Shuffle(recs []Record, seed uint64) []Record {
	out := slices.Clone(recs)
	for i := range out {
		out[i].Published = nil
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// RunRecords clusters recs with cfg in their order, each arriving at its
// published time (or, without one, at the time of the one before), and
// scores the result. recs are expected as Read returns them: ids unique,
// labels present.
func RunRecords(recs []Record, cfg cluster.Config, opt Options) (*Report, []Assignment, error) {
	if len(recs) == 0 {
		return nil, nil, errors.New("evaluate: no documents in the input")
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	c := cluster.New(cfg, nil)
	var (
		gold    = make([]string, 0, len(recs))
		elapsed time.Duration
		docs    = make([]cluster.Document, 0, len(recs))
		tp      = newTopics(len(recs))
	)
	for _, rec := range recs {
		d := cluster.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text}
		if rec.URL != nil {
			d.Link = *rec.URL
		}
		if rec.Published != nil {
			d.Time = *rec.Published
		}
		start := now()
		a := c.Add(d)
		if a.SplitCheck != 0 {
			// The daemon re-reads a topic's stories from the database, in
			// time order; here they are in memory, in file order.
			ms := make([]cluster.Document, 0, len(tp.members[a.SplitCheck]))
			for _, i := range tp.members[a.SplitCheck] {
				ms = append(ms, docs[i])
			}
			a = c.CheckSplit(ms)
		}
		elapsed += now().Sub(start)
		gold = append(gold, rec.Label)
		docs = append(docs, d)
		tp.add(d.ID)
		if err := a.Apply(tp); err != nil {
			return nil, nil, err
		}
	}
	out := make([]Assignment, len(tp.pred))
	for i, id := range tp.pred {
		out[i] = Assignment{ID: docs[i].ID, TopicID: id}
	}
	rep := Score(gold, tp.pred)
	rep.Seconds = elapsed.Seconds()
	if elapsed > 0 {
		rep.DocsPerSecond = float64(rep.Docs) / elapsed.Seconds()
	}
	return rep, out, nil
}

// Stat is the mean and range of one score over several runs.
type Stat struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// Spread summarizes runs of one file in several orders (see Shuffle).
type Spread struct {
	Orders            int  `json:"orders"`
	Docs              int  `json:"docs"`
	GoldClusters      int  `json:"gold_clusters"`
	BCubedPrecision   Stat `json:"bcubed_precision"`
	BCubedRecall      Stat `json:"bcubed_recall"`
	BCubedF1          Stat `json:"bcubed_f1"`
	PairwisePrecision Stat `json:"pairwise_precision"`
	PairwiseRecall    Stat `json:"pairwise_recall"`
	PairwiseF1        Stat `json:"pairwise_f1"`
	ARI               Stat `json:"ari"`
	NMI               Stat `json:"nmi"`
	PredictedClusters Stat `json:"predicted_clusters"`
	DocsPerSecond     Stat `json:"docs_per_second"`
}

// Summarize returns the mean and range of each score of reps, which are
// runs of one file.
func Summarize(reps []*Report) Spread {
	stat := func(f func(*Report) float64) Stat {
		if len(reps) == 0 {
			return Stat{}
		}
		s := Stat{Min: math.Inf(1), Max: math.Inf(-1)}
		for _, r := range reps {
			v := f(r)
			s.Mean += v
			s.Min, s.Max = min(s.Min, v), max(s.Max, v)
		}
		s.Mean /= float64(len(reps))
		return s
	}
	sp := Spread{
		Orders:            len(reps),
		BCubedPrecision:   stat(func(r *Report) float64 { return r.BCubedPrecision }),
		BCubedRecall:      stat(func(r *Report) float64 { return r.BCubedRecall }),
		BCubedF1:          stat(func(r *Report) float64 { return r.BCubedF1 }),
		PairwisePrecision: stat(func(r *Report) float64 { return r.PairwisePrecision }),
		PairwiseRecall:    stat(func(r *Report) float64 { return r.PairwiseRecall }),
		PairwiseF1:        stat(func(r *Report) float64 { return r.PairwiseF1 }),
		ARI:               stat(func(r *Report) float64 { return r.ARI }),
		NMI:               stat(func(r *Report) float64 { return r.NMI }),
		PredictedClusters: stat(func(r *Report) float64 { return float64(r.PredictedClusters) }),
		DocsPerSecond:     stat(func(r *Report) float64 { return r.DocsPerSecond }),
	}
	if len(reps) > 0 {
		sp.Docs, sp.GoldClusters = reps[0].Docs, reps[0].GoldClusters
	}
	return sp
}

// topics is what eval keeps of the clustering (cluster.Memberships): each
// document's topic, and each topic's documents in file order, which is the
// daemon's order (time, then entry ID) for documents that arrive at one
// instant.
type topics struct {
	index   map[string]int  // document ID → its index
	pred    []int64         // current topic of each document
	members map[int64][]int // topic → its documents
}

func newTopics(n int) *topics {
	return &topics{index: make(map[string]int, n), pred: make([]int64, 0, n), members: make(map[int64][]int)}
}

// add numbers a new document, before its Assignment is applied.
func (t *topics) add(id string) {
	t.index[id] = len(t.pred)
	t.pred = append(t.pred, 0)
}

func (t *topics) Merge(from, to int64) error {
	for _, i := range t.members[from] {
		t.pred[i] = to
	}
	t.members[to] = append(t.members[to], t.members[from]...)
	sort.Ints(t.members[to])
	delete(t.members, from)
	return nil
}

func (t *topics) Join(id string, topic int64) error {
	i, ok := t.index[id]
	if !ok {
		return fmt.Errorf("eval: unknown document %q", id)
	}
	t.pred[i] = topic
	t.members[topic] = append(t.members[topic], i)
	return nil
}

func (t *topics) Move(ids []string, to int64) error {
	for _, id := range ids {
		i, ok := t.index[id]
		if !ok {
			return fmt.Errorf("eval: unknown document %q", id)
		}
		from := t.pred[i]
		t.members[from] = slices.DeleteFunc(t.members[from], func(j int) bool { return j == i })
		t.members[to] = append(t.members[to], i)
		t.pred[i] = to
	}
	return nil
}
