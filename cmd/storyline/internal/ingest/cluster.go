package ingest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/store"
)

// batch collects the topic states and statistics of a batch of Adds, so
// that each topic, each term and the counters are written once per batch,
// not once per story. Memberships are recorded at once (see writer): a
// split check reads them.
type batch struct {
	topics map[int64]cluster.TopicState
	df     map[string]int64
	docs   int64
}

func newBatch() *batch {
	return &batch{topics: make(map[int64]cluster.TopicState), df: make(map[string]int64)}
}

// writer adds stories to the clusterer inside a write transaction: it
// records each story's membership, and applies merges and splits to the
// stored memberships, as they happen (the Tx may write them later, in
// order), and reads the stories of a topic the clusterer asks to check
// for a split.
type writer struct {
	ctx context.Context
	tx  store.Tx
	c   *cluster.Clusterer
	b   *batch
	m   cluster.Memberships // where the assignments go: tx
}

func newWriter(ctx context.Context, tx store.Tx, c *cluster.Clusterer) *writer {
	return &writer{ctx: ctx, tx: tx, c: c, b: newBatch(), m: store.Memberships(ctx, tx)}
}

// add clusters one stored entry, analyzed already, and records what that
// changed.
func (w *writer) add(x cluster.Analyzed) error {
	a := w.c.AddAnalyzed(x)
	if a.SplitCheck != 0 {
		members, err := w.tx.TopicDocs(w.ctx, a.SplitCheck)
		if err != nil {
			return err
		}
		a = w.c.CheckSplit(members)
	}
	// The batch holds no topic states of its own (the clusterer's Changed
	// gives them at saveBatch), so a merge leaves nothing in it to drop.
	for _, t := range a.DocFreqTerms {
		w.b.df[t]++
	}
	w.b.docs++
	return a.Apply(w.m)
}

// clusterChunk is how many pending stories ClusterPending clusters per
// transaction: large enough that a topic's state, written once per
// transaction, is written once for many stories; small enough that the
// stories read at once stay a few megabytes.
const clusterChunk = 4096

// ClusterPending clusters the stored entries that are not clustered yet
// (see SavePolls), in time order, oldest first, and saves the result, in
// transactions of clusterChunk stories. It returns how many it clustered.
// When ctx ends, the transaction in progress is rolled back: what it and
// the rest would have clustered stays pending for the next call, and what
// earlier transactions committed stays. On a database shared with other
// instances (see Lead) it does nothing: the leader clusters.
func (p *Pipeline) ClusterPending(ctx context.Context) (int, error) {
	if p.shared.Load() {
		return 0, nil
	}
	return p.clusterPending(ctx)
}

func (p *Pipeline) clusterPending(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := p.clusterPendingChunk(ctx)
		total += n
		if err != nil {
			return total, fmt.Errorf("ingest: cluster new stories: %w", err)
		}
		if n < clusterChunk {
			return total, nil
		}
	}
}

func (p *Pipeline) clusterPendingChunk(ctx context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	err := p.write(ctx, func(tx store.Tx) error {
		docs, err := tx.PendingDocs(ctx, clusterChunk)
		if err != nil || len(docs) == 0 {
			return err
		}
		if err := p.ensureClusterer(ctx, tx); err != nil {
			return err
		}
		w := newWriter(ctx, tx, p.clusterer)
		next, wait := p.analyzeAhead(ctx, docs)
		defer wait()
		for _, doc := range docs {
			an, err := next()
			if err != nil {
				return err
			}
			if err := w.add(an); err != nil {
				return err
			}
			id, err := store.EntryID(doc.ID)
			if err != nil {
				return err
			}
			if err := tx.MarkClustered(ctx, id); err != nil {
				return err
			}
		}
		if err := p.saveBatch(ctx, tx, w.b); err != nil {
			return err
		}
		n = len(docs)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// analyzeAhead analyzes docs, in order, on a goroutine of its own, so that
// the analysis of the next stories (a fifth of the clustering's work) runs
// on another core while the clusterer assigns this one. next returns the
// next story's analysis, or ctx's error once it ended; wait stops the
// goroutine and waits for it, and must be called before the pipeline's
// analyzer is used again.
func (p *Pipeline) analyzeAhead(ctx context.Context, docs []cluster.Document) (next func() (cluster.Analyzed, error), wait func()) {
	if p.analyzer == nil {
		p.analyzer = cluster.NewAnalyzer(p.cfg)
	}
	an := p.analyzer
	ctx, stop := context.WithCancel(ctx)
	ready := make(chan cluster.Analyzed, 64)
	go func() {
		defer close(ready)
		for _, x := range docs {
			select {
			case ready <- an.Analyze(x):
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() (cluster.Analyzed, error) {
			x, ok := <-ready
			if !ok {
				return x, ctx.Err()
			}
			return x, nil
		}, func() {
			stop()
			for range ready {
			}
		}
}

// clusterEdits brings the clustering up to date with edited stories that
// were clustered before (a pending one is clustered as it is when its
// turn comes): the statistics follow the edit, so that they keep counting
// the stored words, and the story stays in its topic, which is rebuilt.
func (p *Pipeline) clusterEdits(ctx context.Context, tx store.Tx, edits []store.Edit) error {
	if len(edits) == 0 {
		return nil
	}
	if err := p.ensureClusterer(ctx, tx); err != nil {
		return err
	}
	c, b := p.clusterer, newBatch()
	for _, e := range edits {
		for _, t := range c.Forget(e.Was) {
			b.df[t]--
		}
		for _, t := range c.Count(e.Now) {
			b.df[t]++
		}
	}
	if err := rebuildTopicsOf(ctx, tx, c, b, edits); err != nil {
		return err
	}
	return p.saveBatch(ctx, tx, b)
}

// rebuildTopicsOf rebuilds the topics of edited entries from their stories
// as now stored (after this batch's new ones joined), so that a corrected
// headline or a rewritten story changes its topic's centroid, name and
// representative headline as it would have had it arrived that way.
func rebuildTopicsOf(ctx context.Context, tx store.Tx, c *cluster.Clusterer, b *batch, edits []store.Edit) error {
	var topics []int64
	for _, e := range edits {
		tid, ok, err := tx.TopicOf(ctx, e.EntryID)
		switch {
		case err != nil:
			return fmt.Errorf("find the topic of edited entry %d: %w", e.EntryID, err)
		case !ok:
			continue // stored before clustering existed: recluster places it
		}
		if !slices.Contains(topics, tid) {
			topics = append(topics, tid)
		}
	}
	slices.Sort(topics)
	_, err := rebuildTopics(ctx, tx, c, b, topics)
	return err
}

// rebuildTopics rebuilds each topic from its stories as stored now
// (cluster.Rebuild) into b, keeping its ID, and deletes a topic that has no
// stories left. It returns how many it deleted.
func rebuildTopics(ctx context.Context, tx store.Tx, c *cluster.Clusterer, b *batch, topics []int64) (deleted int, err error) {
	for _, tid := range topics {
		docs, err := tx.TopicDocs(ctx, tid)
		if err != nil {
			return deleted, err
		}
		ts, ok := c.Rebuild(tid, docs)
		if !ok {
			if err := tx.DeleteTopic(ctx, tid); err != nil {
				return deleted, err
			}
			deleted++
			continue
		}
		b.topics[tid] = ts
	}
	return deleted, nil
}

// saveBatch writes a batch and bumps the generation, which the clusterer
// then matches (if the transaction rolls back instead, write drops it).
func (p *Pipeline) saveBatch(ctx context.Context, tx store.Tx, b *batch) error {
	c := p.clusterer
	if err := tx.AddDocFreqs(ctx, b.df); err != nil {
		return err
	}
	// clock is the latest story time of the topics written.
	var clock time.Time
	save := func(ts cluster.TopicState) error {
		if ts.Last.After(clock) {
			clock = ts.Last
		}
		return tx.SaveTopic(ctx, ts)
	}
	for _, id := range slices.Sorted(maps.Keys(b.topics)) {
		if err := save(b.topics[id]); err != nil {
			return err
		}
	}
	// The topics the batch changed, each saved once, its state made here
	// and encoded as it is written (a batch's states at once would be tens
	// of megabytes; the Tx holds a few hundred). A closed topic that was
	// rebuilt is newer in b.
	err := c.Changed(func(ts cluster.TopicState) error {
		if _, ok := b.topics[ts.ID]; ok {
			return nil
		}
		return save(ts)
	})
	if err != nil {
		return err
	}
	gen, err := tx.SaveClusterCounters(ctx, store.ClusterCounters{Docs: b.docs, LastTopicID: c.LastTopicID(), Clock: clock})
	if err != nil {
		return err
	}
	p.clusterGen = gen
	return nil
}
