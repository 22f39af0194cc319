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

// Locker hands out the cluster lock: ok is false while another instance
// holds it. A dead instance's lock is released by the database.
type Locker interface {
	TryClusterLock(ctx context.Context) (lock ClusterLock, ok bool, err error)
}

// Lead makes p one of several instances on one database: from now on its
// ClusterPending clusters only while p holds the cluster lock, so that one
// instance at a time clusters the stories they all store, in their order,
// and keeps its clusterer warm. Every every, it tries to take the lock
// (so a dead leader's place is taken within about that), and while it
// holds it, clusters the pending stories. report is told when leadership
// changes (err nil) and of errors. Lead returns at once; wait, after ctx
// ended, waits for the lock to be released.
//
// Leadership is for efficiency, not correctness: the backend serializes
// the transactions that cluster (see store.Tx.ClusterGeneration), and the
// generation check reloads a clusterer another instance made stale, so a
// leader that lost its lock in the middle of a transaction does no harm.
func (p *Pipeline) Lead(ctx context.Context, l Locker, every time.Duration, report func(leading bool, err error)) (wait func()) {
	p.shared.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.lead(ctx, l, every, report)
	}()
	return func() { <-done }
}

func (p *Pipeline) lead(ctx context.Context, l Locker, every time.Duration, report func(bool, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		lock, ok, err := l.TryClusterLock(ctx)
		if err != nil && ctx.Err() == nil {
			report(false, err)
		}
		if ok {
			p.leading.Store(true)
			report(true, nil)
			p.whileLeading(ctx, lock, t.C, report)
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

// whileLeading clusters the pending stories now and on every tick until
// ctx ends or the lock is lost.
func (p *Pipeline) whileLeading(ctx context.Context, lock ClusterLock, tick <-chan time.Time, report func(bool, error)) {
	for {
		if _, err := p.clusterPending(ctx); err != nil && ctx.Err() == nil {
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
