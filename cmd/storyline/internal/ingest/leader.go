package ingest

import (
	"context"
	"time"
)

// ClusterLock is held by the one instance, among those sharing a
// database, that clusters new stories.
type ClusterLock interface {
	// Lost is closed when the lock is gone without Release: its holder's
	// connection to the database died, and another instance may hold it
	// now.
	Lost() <-chan struct{}
	// Release gives the lock up.
	Release(ctx context.Context) error
}

// Fleet is a database that several instances share: it hands out the
// cluster lock (ok is false while another instance holds it; a dead
// instance's lock is released by the database), and tells the leader
// whether polls are in progress and how long the oldest pending story has
// waited.
type Fleet interface {
	TryClusterLock(ctx context.Context) (lock ClusterLock, ok bool, err error)
	PollingBacklog(ctx context.Context, now time.Time) (busy bool, oldestPending time.Time, err error)
}

// Lead makes p one of several instances on one database: from now on its
// ClusterPending does nothing, and p clusters the stories all instances
// store only while it holds the cluster lock. Every every, it tries to
// take the lock (so a dead leader's place is taken within about that),
// and while it holds it, clusters the pending stories once no feed is
// being polled, or once the oldest of them has waited maxWait: so that
// the stories of a wave of polls (a cold import of a thousand feeds'
// history, say) are clustered together, in their time order, not in the
// order instances happened to save them. report is told when leadership
// changes (err nil) and of errors. Lead returns at once; wait, after ctx
// ended, waits for the lock to be released.
//
// Leadership is for efficiency, not correctness: the backend serializes
// the transactions that cluster (see store.Tx.ClusterGeneration), and the
// generation check reloads a clusterer another instance made stale, so a
// leader that lost its lock in the middle of a transaction does no harm.
func (p *Pipeline) Lead(ctx context.Context, f Fleet, every, maxWait time.Duration, report func(leading bool, err error)) (wait func()) {
	p.shared.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.lead(ctx, f, every, maxWait, report)
	}()
	return func() { <-done }
}

func (p *Pipeline) lead(ctx context.Context, f Fleet, every, maxWait time.Duration, report func(bool, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		lock, ok, err := f.TryClusterLock(ctx)
		if err != nil && ctx.Err() == nil {
			report(false, err)
		}
		if ok {
			report(true, nil)
			p.leading.Store(true)
			p.whileLeading(ctx, f, lock, t.C, maxWait, report)
			p.leading.Store(false)
			if ctx.Err() != nil {
				release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				err := lock.Release(release)
				cancel()
				if err != nil {
					report(false, err)
				}
				return
			}
			report(false, nil)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// whileLeading clusters the pending stories on every tick when polling
// is quiet or they have waited maxWait, until ctx ends or the lock is
// lost.
func (p *Pipeline) whileLeading(ctx context.Context, f Fleet, lock ClusterLock, tick <-chan time.Time, maxWait time.Duration, report func(bool, error)) {
	// A lost lock stops the clustering in progress too: another instance
	// may lead by now, and its work would be reloaded over this one's.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lock.Lost():
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		now := time.Now()
		busy, oldest, err := f.PollingBacklog(ctx, now)
		if err == nil && !oldest.IsZero() && (!busy || now.Sub(oldest) >= maxWait) {
			_, err = p.clusterPending(ctx)
		}
		if err != nil && ctx.Err() == nil {
			report(true, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-lock.Lost():
			return
		case <-tick:
		}
	}
}
