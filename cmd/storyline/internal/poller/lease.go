package poller

import (
	"context"
	"time"

	"github.com/storyline/storyline/store"
)

// Claimer is a feed queue that several instances share: each due feed is
// handed to one of them at a time, for a lease, and saving its poll ends
// the lease.
type Claimer interface {
	// ClaimDueFeeds claims for owner, until now+lease, up to limit enabled
	// feeds (0: no limit) due by now (all: due or not) that no other
	// owner's lease holds, most overdue first.
	ClaimDueFeeds(ctx context.Context, now time.Time, all bool, owner string, lease time.Duration, limit int) ([]store.Feed, error)
	// NextPollAt is the earliest time a feed is due and not leased.
	NextPollAt(ctx context.Context) (time.Time, error)
}

// LeasedQueue is the Queue of an instance that shares its database with
// others: it claims the feeds it polls rather than reading them, so that
// no two instances poll one feed at once, and a round claims at most
// limit feeds, so that a lease outlasts the round that polls them.
func LeasedQueue(c Claimer, owner string, lease time.Duration, limit int) Queue {
	return leasedQueue{c, owner, lease, limit}
}

type leasedQueue struct {
	c     Claimer
	owner string
	lease time.Duration
	limit int
}

func (q leasedQueue) DueFeeds(ctx context.Context, now time.Time, all bool) ([]store.Feed, error) {
	return q.c.ClaimDueFeeds(ctx, now, all, q.owner, q.lease, q.limit)
}

func (q leasedQueue) NextPollAt(ctx context.Context) (time.Time, error) { return q.c.NextPollAt(ctx) }
