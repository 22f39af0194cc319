package store

import (
	"math"
	"sort"
	"time"
)

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

// RankTopics orders topics, given newest first (by their latest story),
// by recent activity and size, as every backend's Topics returns them: a
// topic's score is its number of stories discounted by the hours between
// its latest one and the newest topic's, so a big story of this morning
// ranks above a small one of this minute, and a big one of last week
// below both. Scores are relative to the newest topic, not the wall
// clock, so that an archive (or the demo) ranks the same whenever it is
// read.
func RankTopics(ts []Topic) {
	if len(ts) == 0 {
		return
	}
	newest := ts[0].Last
	score := func(t Topic) float64 {
		return float64(t.Size) / math.Pow(newest.Sub(t.Last).Hours()+2, 1.5)
	}
	sort.SliceStable(ts, func(i, j int) bool { return score(ts[i]) > score(ts[j]) })
}
