package store

import "time"

// Topic is a storyline as stored.
type Topic struct {
	ID       int64
	Name     string
	Headline string
	First    time.Time
	Last     time.Time
	Size     int
	// Outlets is the number of distinct feeds that carried its stories.
	Outlets int
}

// TopicQuery selects topics; zero fields do not filter.
type TopicQuery struct {
	Since   time.Time // last story at or after
	MinSize int
	Limit   int
}
