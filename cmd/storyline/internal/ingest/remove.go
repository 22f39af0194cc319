package ingest

import (
	"context"
	"fmt"

	"github.com/storyline/storyline/store"
)

// RemoveFeed unsubscribes from a feed, given its ID or URL, and deletes its
// entries, bringing the clustering up to date (see forget). Topics keep
// their IDs, so subscriptions to them survive. It returns the removed
// feed, or an error wrapping store.ErrNotFound.
func (p *Pipeline) RemoveFeed(ctx context.Context, idOrURL string) (store.Feed, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var f store.Feed
	err := p.write(ctx, func(tx store.Tx) error {
		var err error
		if f, err = tx.Feed(ctx, idOrURL); err != nil {
			return err
		}
		_, err = p.forget(ctx, tx, func() (store.Removed, error) { return tx.DeleteFeed(ctx, f.ID) })
		return err
	})
	if err != nil {
		return store.Feed{}, fmt.Errorf("ingest: remove feed %s: %w", idOrURL, err)
	}
	return f, nil
}

// pruneChunk bounds one pruning transaction, so that the writer of the
// poller never waits long behind it.
const pruneChunk = 2000

// Prune removes the stories r does not keep, in transactions of at most
// pruneChunk stories, with what goes with them: their full-text rows,
// memberships and pending marks; their storylines are rebuilt from the
// stories left (sizes, names, headlines and centroids stay consistent) or
// removed when none are. The space freed goes back to the file system
// where the database allows it, else to later writes.
func (p *Pipeline) Prune(ctx context.Context, r store.Retention) (store.PruneStats, error) {
	var st store.PruneStats
	// On a database shared with other instances only the leader prunes:
	// all of them at once would remove the same stories in turn.
	if r.KeepsAll() || p.shared.Load() && !p.leading.Load() {
		return st, nil
	}
	ids, err := p.db.PruneCandidates(ctx, r)
	if err != nil {
		return st, err
	}
	for len(ids) > 0 {
		n := min(len(ids), pruneChunk)
		topics, err := p.pruneEntries(ctx, ids[:n])
		if err != nil {
			return st, err
		}
		st.Entries += n
		st.Topics += topics
		ids = ids[n:]
	}
	if st.Entries > 0 {
		freed, err := p.db.ReclaimSpace(ctx)
		if err != nil {
			return st, err
		}
		st.FreedPages = freed
	}
	return st, nil
}

// pruneEntries removes one chunk of entries and returns how many topics
// it left empty.
func (p *Pipeline) pruneEntries(ctx context.Context, ids []int64) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var removed int
	err := p.write(ctx, func(tx store.Tx) error {
		var err error
		removed, err = p.forget(ctx, tx, func() (store.Removed, error) { return tx.DeleteEntries(ctx, ids) })
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("ingest: prune %d entries: %w", len(ids), err)
	}
	return removed, nil
}

// forget deletes entries with del, and brings the clustering up to date:
// the stories leave the document frequencies, and each topic they belonged
// to is rebuilt from the stories that remain (its name, headline and
// centroid no longer show the removed ones), or deleted when none do. It
// returns how many topics it deleted.
func (p *Pipeline) forget(ctx context.Context, tx store.Tx, del func() (store.Removed, error)) (int, error) {
	// The deletion first: it takes the entries' rows before the
	// clustering, as a poll editing one of them does, so that on a
	// database several instances write the two wait for each other
	// rather than deadlock. The stored clustering state it leaves is the
	// one before it, which the clusterer then takes the stories out of.
	r, err := del()
	if err != nil {
		return 0, err
	}
	if err := p.ensureClusterer(ctx, tx); err != nil {
		return 0, err
	}
	c := p.clusterer
	b := newBatch()
	for _, g := range r.Stories {
		for _, term := range c.Forget(g) {
			b.df[term]--
		}
		b.docs--
	}
	deleted, err := rebuildTopics(ctx, tx, c, b, r.Topics)
	if err != nil {
		return 0, err
	}
	// Written as a batch of polls is.
	return deleted, p.saveBatch(ctx, tx, b)
}
