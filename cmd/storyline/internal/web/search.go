package web

import (
	"context"
	"net/http"
	"time"
)

const (
	// searchQueueWait is how long a search waits for a slot before it is
	// turned away: long enough to ride out a burst, short enough that a
	// flood is answered quickly and cheaply instead of piling up.
	searchQueueWait = time.Second
	// searchRetryAfter is the Retry-After of a search turned away, in
	// seconds: a few searches' time.
	searchRetryAfter = "2"
	// searchCacheBytes bounds the rendered searches kept. They have a cache
	// of their own so that many one-off queries cannot push out the few
	// feeds every reader polls.
	searchCacheBytes = 8 << 20
)

// searchSlots bounds the searches running at once. A search reads up to
// thousands of entries, bodies and all, to rank and filter them: run
// unbounded, a flood of them took a daemon from 19 MB to 4 GB and every
// answer from milliseconds to seconds. Beyond the bound, waiting only adds
// memory and latency, as the searches compete for the same cores.
type searchSlots struct {
	slots chan struct{}
	wait  time.Duration // before giving up on a slot
}

func newSearchSlots(n int, wait time.Duration) *searchSlots {
	return &searchSlots{slots: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot, waiting up to the queue wait or until ctx ends. It
// reports false if it got none; otherwise the caller must call release.
func (l *searchSlots) acquire(ctx context.Context) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (l *searchSlots) release() { <-l.slots }

// busy answers a search that found no slot. 503 with Retry-After is what
// well-behaved clients back off on; the body says why to a person.
func busy(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Retry-After", searchRetryAfter)
	h.Set("Cache-Control", "no-store")
	http.Error(w, "too many searches at once; try again in a few seconds", http.StatusServiceUnavailable)
}
