package store

import (
	"errors"
	"time"

	"github.com/storyline/storyline/feeds"
)

// Feed is a subscription and what the poller knows about it.
type Feed struct {
	ID int64
	// URL is the feed's public URL: without the credentials it was given
	// with (see feeds.SplitSecrets), so that it can be shown and served.
	URL string
	// Secret holds those credentials, opaque, for FetchURL only; it is
	// never shown.
	Secret string
	Title  string // the user's title when set, else the feed's own
	// UserTitle is the title chosen by the user, which survives re-polls.
	UserTitle    string
	SiteLink     string
	Language     string
	Interval     time.Duration // user's override; 0 means the default
	TTL          time.Duration // what the publisher asks for; 0 when silent
	ETag         string
	LastModified string
	LastPolledAt time.Time
	LastStatus   int
	// Errors counts consecutive failed polls; it drives the backoff.
	Errors         int
	LastError      string
	NextPollAt     time.Time
	Disabled       bool
	DisabledReason string
	CreatedAt      time.Time
	EntryCount     int
}

// FetchURL is the URL to request: the public URL with its credentials.
// It must not be shown, logged or served.
func (f Feed) FetchURL() string { return feeds.JoinSecrets(f.URL, f.Secret) }

// NewFeed is what AddFeed needs to subscribe to a feed.
type NewFeed struct {
	// URL may carry credentials (userinfo, a token parameter): the store
	// keeps them apart from the public URL.
	URL      string
	Title    string        // optional user title
	Interval time.Duration // optional per-feed poll interval
}

// FeedUpdate is what UpdateFeed changes in a subscription: the fields set,
// and the others left as they are.
type FeedUpdate struct {
	Title    *string        // the user's title; "" goes back to the feed's own
	Interval *time.Duration // the poll interval; 0 goes back to the default
	// Enable turns a disabled feed (410 Gone, say) back on, due at once,
	// with its error count cleared.
	Enable bool
}

// ErrExists is returned by AddFeed when the URL is already subscribed.
var ErrExists = errors.New("store: feed already exists")
