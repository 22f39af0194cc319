package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/store"
)

// Recluster rebuilds all topics from the stored entries, in time order, with
// the pipeline's clustering configuration. It runs in one transaction: if
// anything fails, the old topics stay as they were.
func (p *Pipeline) Recluster(ctx context.Context) (entries, topics int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	err = p.write(ctx, func(tx store.Tx) error {
		n, err := p.recluster(ctx, tx)
		if err != nil {
			return err
		}
		entries = n
		// Merges during the rebuild removed some of the topics it opened.
		topics, err = tx.TopicCount(ctx)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("ingest: recluster: %w", err)
	}
	return entries, topics, nil
}

var errInjected = errors.New("ingest: injected failure")

func (p *Pipeline) recluster(ctx context.Context, tx store.Tx) (int, error) {
	// New topics are numbered after every ID ever handed out (the stored
	// last topic ID only grows), so that an old ID never names a different
	// storyline: it becomes an alias of the new topic that holds most of
	// its stories (see store.Tx.KeepTopicIDs).
	lastID, err := tx.ResetClustering(ctx)
	if err != nil {
		return 0, err
	}
	p.clusterer = cluster.New(p.cfg, &cluster.State{LastTopicID: lastID})
	docs, err := tx.AllDocs(ctx)
	if err != nil {
		return 0, err
	}
	// Save in batches so that memory stays bounded by a batch, not by the
	// whole archive's topic states; as large as ClusterPending's, so that
	// a large topic's state is written about as often.
	const size = clusterChunk
	w := newWriter(ctx, tx, p.clusterer)
	next, wait := p.analyzeAhead(ctx, docs)
	defer wait()
	for i := range docs {
		if p.failRecluster > 0 && i == p.failRecluster {
			return 0, errInjected
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		an, err := next()
		if err != nil {
			return 0, err
		}
		if err := w.add(an); err != nil {
			return 0, err
		}
		// ResetClustering ended every pending mark, but on a database
		// other instances write, a story saved since then is both in
		// docs and pending: it must not be clustered twice.
		id, err := store.EntryID(docs[i].ID)
		if err != nil {
			return 0, err
		}
		if err := tx.MarkClustered(ctx, id); err != nil {
			return 0, err
		}
		if w.b.docs == size || i == len(docs)-1 {
			if err := p.saveBatch(ctx, tx, w.b); err != nil {
				return 0, err
			}
			w.b = newBatch()
		}
	}
	if err := tx.KeepTopicIDs(ctx); err != nil {
		return 0, err
	}
	if len(docs) == 0 {
		// Still bump the generation so other processes drop their state.
		if err := tx.BumpGeneration(ctx); err != nil {
			return 0, err
		}
		p.clusterer = nil
		return 0, nil
	}
	return len(docs), nil
}
