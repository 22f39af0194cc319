// Package ingest is the one write path of stories: it saves what the
// poller fetched, clusters the new stories in time order, and keeps the
// clustering in step when stories change or leave (an edited story, a
// removed feed, retention) or when everything is reclustered. It owns the
// clusterer; the database provides the primitives of a write transaction
// (store.Tx), so that this orchestration is written once, whatever the
// backend.
//
// The clusterer lives in memory and is saved in the same transaction as
// the stories it clustered, so the two never disagree. The stored
// generation changes with every clustering write: a pipeline whose
// generation differs from the database's (another process clustered, or
// a transaction of its own rolled back after the clusterer had moved on)
// reloads the state before clustering again. On a database several
// instances share, Lead makes one of them at a time the clusterer.
package ingest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/store"
)

// Store is what the pipeline needs of the database; both backends' DB
// (store/sqlite, store/postgres) are one.
type Store interface {
	// WriteTx runs fn in one write transaction, committed when fn returns
	// nil.
	WriteTx(ctx context.Context, fn func(store.Tx) error) error
	// PruneCandidates lists the entries a retention removes, and
	// ReclaimSpace gives the space they took back afterwards.
	PruneCandidates(ctx context.Context, r store.Retention) ([]int64, error)
	ReclaimSpace(ctx context.Context) (freedPages int64, err error)
}

// Pipeline is the write path of stories over one database. Its methods
// may be called from several goroutines: they run one at a time.
type Pipeline struct {
	db  Store
	cfg cluster.Config

	// mu is held around each write transaction, with which the fields
	// below change.
	mu         sync.Mutex
	clusterer  *cluster.Clusterer
	clusterGen int64
	// analyzer analyzes stories ahead of the clusterer (analyzeAhead).
	analyzer *cluster.Analyzer
	// failRecluster, set by tests, makes Recluster fail after n stories.
	failRecluster int

	// shared is set by Lead: the database is shared with other instances,
	// and only the leader's loop clusters new stories; leading is set
	// while this instance holds the cluster lock.
	shared, leading atomic.Bool
}

// New returns the pipeline that writes to db and clusters with cfg (the
// zero Config is cluster.DefaultConfig). A new cfg takes effect for the
// stories clustered later; Recluster applies it to all.
func New(db Store, cfg cluster.Config) *Pipeline {
	if cfg == (cluster.Config{}) {
		cfg = cluster.DefaultConfig()
	}
	return &Pipeline{db: db, cfg: cfg}
}

// write runs fn in a write transaction whose outcome decides the
// clusterer's: after a commit, the clusterer that produced the committed
// state is current; after a failure it may hold what was rolled back, so
// it is dropped and the next write reloads the state from the database.
// The caller holds mu.
func (p *Pipeline) write(ctx context.Context, fn func(store.Tx) error) error {
	err := p.db.WriteTx(ctx, fn)
	if err != nil {
		p.clusterer = nil
	}
	return err
}

// ensureClusterer makes p.clusterer current with the database, inside the
// write transaction tx.
func (p *Pipeline) ensureClusterer(ctx context.Context, tx store.Tx) error {
	gen, err := tx.ClusterGeneration(ctx)
	if err != nil {
		return err
	}
	if p.clusterer != nil && gen == p.clusterGen {
		return nil
	}
	st, err := tx.LoadClusterState(ctx, p.cfg.Window+p.cfg.History)
	if err != nil {
		return err
	}
	p.clusterer = cluster.New(p.cfg, st)
	p.clusterGen = gen
	return nil
}

// SavePoll records a poll: the feed's new state and its entries, in one
// transaction (see SavePolls).
func (p *Pipeline) SavePoll(ctx context.Context, r store.PollResult) (store.SaveStats, error) {
	st, err := p.SavePolls(ctx, []store.PollResult{r})
	if err != nil {
		return store.SaveStats{}, err
	}
	return st[0], nil
}

// SavePolls records several polls in one transaction, which is how a busy
// poller amortizes the cost of a commit. Either all are saved or none. It
// is idempotent: saving the same document twice changes nothing the second
// time; an entry whose content changed is updated in place. New entries
// are stored unclustered, pending until ClusterPending; an edit to an
// entry clustered before is applied to its topic at once.
func (p *Pipeline) SavePolls(ctx context.Context, rs []store.PollResult) ([]store.SaveStats, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	failed := rs[0]
	out := make([]store.SaveStats, len(rs))
	err := p.write(ctx, func(tx store.Tx) error {
		var edits []store.Edit
		for i, r := range rs {
			st, e, err := tx.SavePoll(ctx, r)
			if err != nil {
				failed = r
				return err
			}
			out[i] = st
			edits = append(edits, e...)
		}
		return p.clusterEdits(ctx, tx, edits)
	})
	if err != nil {
		if len(rs) == 1 {
			return nil, fmt.Errorf("ingest: save poll of feed %d: %w", failed.FeedID, err)
		}
		return nil, fmt.Errorf("ingest: save polls of %d feeds (feed %d): %w", len(rs), failed.FeedID, err)
	}
	return out, nil
}
