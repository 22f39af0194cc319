package store

import (
	"math"
	"slices"
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
	// Size is the clusterer's count of the topic's entries, one per feed
	// that carried an article: what the clusterer goes by.
	Size int
	// Stories is the number of distinct articles among those entries:
	// copies of one link from several feeds (an outlet's main and section
	// feeds) are one, as the served feeds fold them, and an entry without
	// a link is one of its own. It is what people are shown as the
	// topic's number of stories.
	Stories int
	// Outlets is the number of outlets (distinct feed names, see
	// OutletCount) that carried its stories.
	Outlets int
}

// TopicQuery selects topics; zero fields do not filter.
type TopicQuery struct {
	Since time.Time // last story at or after
	// MinSize keeps the topics of at least that many stories (articles:
	// see Topic.Stories). Backends narrow by entries (Size) first, which
	// only lets more through, then keep those of enough stories.
	MinSize int
	Limit   int
}

// KeepStories keeps the topics of at least minSize stories (articles), as
// Topics does once Stories is counted: one article in an outlet's main and
// section feeds is two entries but a single story, not a storyline.
func KeepStories(ts []Topic, minSize int) []Topic {
	return slices.DeleteFunc(ts, func(t Topic) bool { return t.Stories < minSize })
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
