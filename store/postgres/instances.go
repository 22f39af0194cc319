package postgres

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storyline/storyline/store"
)

// ClaimDueFeeds leases to owner, until now+lease, up to limit enabled
// feeds (limit <= 0: no limit) that are due at now (all: due or not) and
// that no other owner's lease holds, most overdue first (with all, the
// least recently polled first, so that claiming again and again reaches
// every feed before those polled meanwhile). A claimed feed
// is not claimed by another owner until its lease ends at now+lease or a
// saved poll of it (SavePoll) ends the lease, so two instances never poll
// one feed at once, and the feeds of an instance that died are claimed by
// another once their leases run out. Rows another claimer has locked are
// skipped, not waited for.
//
// now is the caller's clock, as for DueFeeds: the instances' clocks should
// agree to well within the lease.
func (d *DB) ClaimDueFeeds(ctx context.Context, now time.Time, all bool, owner string, lease time.Duration, limit int) ([]store.Feed, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := d.pool.Query(ctx, `WITH due AS (
			SELECT id FROM feeds
			WHERE NOT disabled AND ($5 OR next_poll_at <= $1) AND (lease_until <= $1 OR lease_owner = $3)
			ORDER BY CASE WHEN $5 THEN last_polled_at ELSE next_poll_at END, id
			LIMIT $2
			FOR UPDATE SKIP LOCKED)
		UPDATE feeds f SET lease_owner = $3, lease_until = $4
		FROM due WHERE f.id = due.id
		RETURNING `+feedColumns, ms(now), lim, owner, ms(now.Add(lease)), all)
	if err != nil {
		return nil, fmt.Errorf("store: claim due feeds: %w", err)
	}
	out, err := collect(rows, func(r pgx.CollectableRow) (store.Feed, error) { return scanFeed(r) })
	if err != nil {
		return nil, fmt.Errorf("store: claim due feeds: %w", err)
	}
	// RETURNING comes in no particular order.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].NextPollAt, out[j].NextPollAt
		if all {
			a, b = out[i].LastPolledAt, out[j].LastPolledAt
		}
		if !a.Equal(b) {
			return a.Before(b)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// clusterLockCheck is how often a ClusterLock checks that its session is
// alive: the holder learns that it lost the lock within about this long
// (another instance may hold it by then; the clustering transactions are
// serialized anyway, see WriteTx).
const clusterLockCheck = time.Second

// ClusterLock is the right to be the one instance that clusters, held as
// a session-level advisory lock on a connection of its own: when the
// holder's process dies, PostgreSQL ends the session and the lock with it,
// and another instance's TryClusterLock succeeds.
type ClusterLock struct {
	conn *pgx.Conn
	lost chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// TryClusterLock takes the cluster lock if no instance holds it. ok is
// false when another does; err is set when the database could not be
// asked.
func (d *DB) TryClusterLock(ctx context.Context) (lock *ClusterLock, ok bool, err error) {
	// A follower tries every few seconds: the session of a failed try is
	// kept for the next one rather than a new one started each time.
	d.lockMu.Lock()
	conn := d.lockConn
	d.lockConn = nil
	d.lockMu.Unlock()
	if conn == nil {
		pc, err := d.pool.Acquire(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("store: cluster lock: %w", err)
		}
		// Out of the pool for good: the lock lives as long as this
		// session, which no other query may borrow.
		conn = pc.Hijack()
	}
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", clusterLockKey).Scan(&ok); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, false, fmt.Errorf("store: cluster lock: %w", err)
	}
	if !ok {
		d.lockMu.Lock()
		if d.lockConn == nil && !d.closed {
			d.lockConn, conn = conn, nil
		}
		d.lockMu.Unlock()
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
		return nil, false, nil
	}
	l := &ClusterLock{conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l, true, nil
}

// Lost is closed when the lock's session ended (the connection broke, an
// administrator terminated it): the holder must stop clustering, and may
// try to take the lock again.
func (l *ClusterLock) Lost() <-chan struct{} { return l.lost }

// watch checks the session until Release, and closes lost when it ended.
func (l *ClusterLock) watch() {
	defer close(l.done)
	t := time.NewTicker(clusterLockCheck)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*clusterLockCheck)
		err := l.conn.Ping(ctx)
		cancel()
		if err != nil {
			close(l.lost)
			l.conn.Close(context.Background())
			return
		}
	}
}

// Release gives the lock up, for another instance to take, and closes its
// connection. It may be called more than once, and after the lock was
// lost.
func (l *ClusterLock) Release(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		select {
		case <-l.lost:
			return // the session is gone, and the lock with it
		default:
		}
		// Closing the session alone would release the lock; unlocking
		// first says so at once, even if the close lingers.
		_, err = l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", clusterLockKey)
		if cerr := l.conn.Close(ctx); err == nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("store: release cluster lock: %w", err)
		}
	})
	return err
}

// PollingBacklog tells the instance that clusters whether to wait: busy is
// true while a feed is due and not claimed, or claimed and not saved yet
// (a lease still running), and oldestPending is when the oldest story not
// clustered yet was stored (zero when there is none). Stories of one wave
// of polls, clustered together, are clustered in their time order; a
// wave clustered piecemeal as each instance saves a part of it would put
// older stories after newer ones.
func (d *DB) PollingBacklog(ctx context.Context, now time.Time) (busy bool, oldestPending time.Time, err error) {
	var oldest *int64
	err = d.pool.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM feeds WHERE NOT disabled AND (next_poll_at <= $1 OR (lease_owner <> '' AND lease_until > $1))),
			(SELECT MIN(e.first_seen_at) FROM pending_entries p JOIN entries e ON e.id = p.entry_id)`, ms(now)).Scan(&busy, &oldest)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: polling backlog: %w", err)
	}
	if oldest != nil {
		oldestPending = fromMS(*oldest)
	}
	return busy, oldestPending, nil
}

// ReleaseLeases ends the leases owner holds, as an instance stops: the
// feeds it claimed and did not poll are due to the others at once, not
// when the leases run out.
func (d *DB) ReleaseLeases(ctx context.Context, owner string) error {
	if _, err := d.pool.Exec(ctx, "UPDATE feeds SET lease_owner = '', lease_until = 0 WHERE lease_owner = $1", owner); err != nil {
		return fmt.Errorf("store: release the leases of %s: %w", owner, err)
	}
	return nil
}
