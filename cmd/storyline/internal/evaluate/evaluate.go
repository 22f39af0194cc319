// Package evaluate scores the clustering on labelled JSON Lines files (the
// benchmark format: id, title, text, published, source, url, label). It feeds
// the documents through package cluster exactly as the daemon does, in file
// order and without the label, and compares the result with the gold labels.
package evaluate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	c := cluster.New(cfg, nil)
	var (
		gold    []string
		pred    []int64 // current topic of each document
		out     []Assignment
		elapsed time.Duration
		seen    = make(map[string]bool)
		docs    []cluster.Document
		members = make(map[int64][]int) // topic → its documents, in joining order
	)
	// The daemon re-reads a topic's stories from the database, in time
	// order; here they are in memory, in file order.
	c.SetMemberSource(func(id int64) []cluster.Document {
		out := make([]cluster.Document, 0, len(members[id]))
		for _, i := range members[id] {
			out = append(out, docs[i])
		}
		return out
	})
	dec := json.NewDecoder(bufio.NewReader(r))
	for line := 1; ; line++ {
		var rec Record
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("evaluate: record %d: %w", line, err)
		}
		if rec.ID == "" {
			return nil, nil, fmt.Errorf("evaluate: record %d: missing id", line)
		}
		if rec.Label == "" {
			// Scoring against nothing would print perfect scores.
			return nil, nil, fmt.Errorf("evaluate: record %d (%s): missing label: eval needs a labelled file", line, rec.ID)
		}
		if seen[rec.ID] {
			return nil, nil, fmt.Errorf("evaluate: record %d: duplicate id %q", line, rec.ID)
		}
		seen[rec.ID] = true
		d := cluster.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text}
		if rec.URL != nil {
			d.Link = *rec.URL
		}
		if rec.Published != nil {
			d.Time = *rec.Published
		}
		start := now()
		a := c.Add(d)
		elapsed += now().Sub(start)
		gold = append(gold, rec.Label)
		pred = append(pred, a.TopicID)
		docs = append(docs, d)
		follow(a, len(docs)-1, docs, members, pred)
	}
	if len(docs) == 0 {
		return nil, nil, errors.New("evaluate: no documents in the input")
	}
	for i, id := range pred {
		out = append(out, Assignment{ID: docs[i].ID, TopicID: id})
	}
	rep := Score(gold, pred)
	rep.Seconds = elapsed.Seconds()
	if elapsed > 0 {
		rep.DocsPerSecond = float64(rep.Docs) / elapsed.Seconds()
	}
	return rep, out, nil
}

// follow applies what one Add did to the documents' topics: merged topics'
// documents move to the surviving topic, a split moves some documents to
// the new topic, and document idx joins its topic. Each topic's documents
// stay in file order, which is the daemon's order (time, then entry ID)
// for documents that arrive at one instant.
func follow(a cluster.Assignment, idx int, docs []cluster.Document, members map[int64][]int, pred []int64) {
	for _, m := range a.Merged {
		for _, i := range members[m] {
			pred[i] = a.TopicID
		}
		members[a.TopicID] = append(members[a.TopicID], members[m]...)
		sort.Ints(members[a.TopicID])
		delete(members, m)
	}
	sp := a.Split
	if sp == nil {
		members[a.TopicID] = append(members[a.TopicID], idx)
		return
	}
	moved := make(map[string]bool, len(sp.Moved))
	for _, id := range sp.Moved {
		moved[id] = true
	}
	var keep, move []int
	for _, i := range append(members[sp.From.ID], idx) {
		if moved[docs[i].ID] {
			move = append(move, i)
			pred[i] = sp.To.ID
		} else {
			keep = append(keep, i)
			pred[i] = sp.From.ID
		}
	}
	members[sp.From.ID] = keep
	members[sp.To.ID] = move
}
