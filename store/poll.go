package store

import (
	"time"

	"github.com/storyline/storyline/feeds"
)

// PollResult is everything one poll of one feed learned; Tx.SavePoll records
// it.
type PollResult struct {
	FeedID   int64
	PolledAt time.Time
	Status   int // HTTP status, 0 when no response arrived
	// NotModified is true for a 304: nothing but the poll times changes.
	NotModified bool
	// NewURL, when set, replaces the feed's URL (a permanent redirect).
	NewURL       string
	ETag         string
	LastModified string
	// Title, SiteLink and Language are the feed's own, from the document.
	Title    string
	SiteLink string
	Language string
	TTL      time.Duration
	// Err is the error text of a failed poll, empty on success.
	Err string
	// Errors is the number of consecutive failed polls after this one.
	Errors     int
	NextPollAt time.Time
	// DisableReason, when set, disables the feed (410 Gone, say).
	DisableReason string
	Entries       []feeds.Entry
}

// SaveStats counts what Tx.SavePoll did with the entries of a poll.
type SaveStats struct {
	New       int
	Updated   int
	Unchanged int
	// URLConflict is set when a permanent redirect pointed at a URL that
	// another subscription already has; the feed keeps its old URL.
	URLConflict bool
	// FeedGone is set when the feed was removed while it was polled; the
	// result was dropped.
	FeedGone bool
	// TitleChanged is set when the poll changed the title readers see of
	// the feed itself.
	TitleChanged bool
}

// Changed reports whether a poll changed anything a reader sees, and so
// the data version.
func (s SaveStats) Changed() bool { return s.New > 0 || s.Updated > 0 || s.TitleChanged }
