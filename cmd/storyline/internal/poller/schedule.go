package poller

import (
	"context"
	"time"

	"github.com/storyline/storyline/store"
)

// Queue is where the scheduler finds due feeds: a backend's DB, or a
// LeasedQueue over one that several instances share. It is
// asked again on every round, so feeds added by another process (a
// `storyline add` next to the daemon) are picked up without a restart.
type Queue interface {
	DueFeeds(ctx context.Context, now time.Time, all bool) ([]store.Feed, error)
	NextPollAt(ctx context.Context) (time.Time, error)
}

// Run polls due feeds until ctx ends: each round takes every feed that is
// due, polls them with the worker pool, and sleeps until the next feed is
// due, but never longer than recheck, so that feeds added from outside
// are seen soon. OnRound, if set, is called after each round that polled
// something. Run returns nil when ctx ends; a round in progress saves what
// it has fetched first.
func (p *Poller) Run(ctx context.Context, q Queue, recheck time.Duration, onError func(error)) error {
	if recheck <= 0 {
		recheck = 15 * time.Second
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		due, err := q.DueFeeds(ctx, p.now(), false)
		if err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		saveFailed := err != nil // a failing database: wait, don't spin
		switch {
		case len(due) > 0:
			out, err := p.Poll(ctx, due)
			if err != nil && ctx.Err() != nil {
				return nil
			}
			if err != nil {
				// Clustering failed: the stories are stored and stay
				// pending; the next round tries again, whether or not a
				// feed is due then.
				saveFailed = true
				if onError != nil {
					onError(err)
				}
			}
			for _, o := range out {
				saveFailed = saveFailed || o.SaveErr != nil
			}
			if p.OnRound != nil {
				p.OnRound()
			}
		case err == nil:
			// No feed is due. Stories saved but not clustered (left by a
			// process that stopped between the two steps, or by a failed
			// clustering) are clustered now; with none, this is one query.
			if _, err := p.Ingest.ClusterPending(ctx); err != nil && ctx.Err() == nil {
				saveFailed = true
				if onError != nil {
					onError(err)
				}
			}
		}
		wait := recheck
		if next, err := q.NextPollAt(ctx); err == nil && !next.IsZero() && !saveFailed {
			// A failed save (or query) leaves feeds due: waiting the full
			// recheck then keeps a broken database from becoming a busy loop.
			wait = min(max(next.Sub(p.now()), 0), recheck)
		}
		timer.Reset(wait)
	}
}
