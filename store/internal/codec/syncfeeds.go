package codec

import (
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// SubscribedFeed is what SyncFeeds compares of a stored feed.
type SubscribedFeed struct {
	ID         int64
	URL        string // where it is polled now
	AddedURL   string // where it was subscribed (a redirect may have moved it since)
	Title      string // the user's title
	IntervalMS int64
	Secret     string
}

// FeedChange is a feed SyncFeeds adds (ID 0) or updates: its URL without
// credentials, and the options the configuration gives it.
type FeedChange struct {
	ID         int64
	URL        string
	Title      string
	IntervalMS int64
	Secret     string
}

// PlanFeedSync decides what SyncFeeds writes for the feeds a configuration
// lists (want), given those subscribed (have): a listed feed found under
// neither its current URL nor the one it was added with is added, one
// whose title, interval or credentials differ is updated, and nothing else
// is touched. Both backends sync through it, so that one configuration
// leaves the same subscriptions on either.
func PlanFeedSync(have []SubscribedFeed, want []store.NewFeed) (add, update []FeedChange) {
	byURL := make(map[string]SubscribedFeed, 2*len(have))
	for _, f := range have {
		byURL[f.AddedURL] = f
		byURL[f.URL] = f // the current URL wins over the one a moved feed was added with
	}
	for _, nf := range want {
		url, secret := feeds.SplitSecrets(nf.URL)
		c := FeedChange{URL: url, Title: nf.Title, IntervalMS: nf.Interval.Milliseconds(), Secret: secret}
		f, ok := byURL[url]
		switch {
		case !ok:
			add = append(add, c)
		case f.Title != c.Title || f.IntervalMS != c.IntervalMS || f.Secret != c.Secret:
			c.ID = f.ID
			update = append(update, c)
		}
	}
	return add, update
}
