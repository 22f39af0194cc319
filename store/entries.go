package store

import (
	"time"

	"github.com/storyline/storyline/feeds"
)

// StoredEntry is an entry as stored, with the feed it came from.
type StoredEntry struct {
	ID        int64
	FeedID    int64
	FeedTitle string
	FeedURL   string
	// Entry holds what the feed said; Entry.ID is the feed's stable id.
	Entry     feeds.Entry
	FirstSeen time.Time
	// TopicID is the storyline the entry belongs to, 0 when not clustered,
	// and TopicName its name.
	TopicID   int64
	TopicName string
}

// EntryQuery selects entries; zero fields do not filter.
type EntryQuery struct {
	FeedID  int64
	TopicID int64
	Since   time.Time // published at or after
	Limit   int       // 0 means no limit
}

// OutletCount is how many stories of a topic one outlet carried. An
// outlet is a feed's shown name: an outlet's main and section feeds of one
// title are one outlet, as the pages name them once.
type OutletCount struct {
	// FeedID is the lowest id of the outlet's feeds that carried the
	// topic.
	FeedID int64
	Title  string
	// Stories counts distinct articles, as Topic.Stories does.
	Stories int
}
