package cluster

import (
	"cmp"
	"math"
	"time"
)

// Config holds every knob of the method. Start from DefaultConfig; a zero
// field is replaced by its default in New, so Config{} is usable too.
type Config struct {
	// Threshold is the least cosine similarity between an article (a story
	// with ArticleTerms effective terms or more) and a topic centroid for the
	// article to join the topic; below it the story opens a new topic.
	// Higher means smaller, purer topics.
	Threshold float64
	// HeadlineThreshold is the same for a headline-only story (HeadlineTerms
	// effective terms or fewer). It is lower because a short text shares
	// few words even with its own topic, while a long one shares many
	// generic words even with a neighbouring event. Between the two lengths
	// the threshold is interpolated on a log scale.
	HeadlineThreshold float64
	// HeadlineTerms and ArticleTerms are the effective numbers of terms
	// (the participation ratio (Σw²)²/Σw⁴ of the weighted story vector) at
	// which HeadlineThreshold and Threshold apply.
	HeadlineTerms, ArticleTerms float64
	// Window is how long a topic stays open after its latest story. Closed
	// topics are no longer candidates, which bounds the cost of each story by
	// the news volume of one window rather than by history.
	Window time.Duration
	// History is how long after leaving the window a topic stays in
	// memory for late stories: a story older than the window (a feed's
	// backlog, a first import of feeds spanning weeks) is scored against
	// the storylines of its own time, open or closed, instead of today's.
	// A closed topic it joins stays closed. A story older than History
	// plus the window finds only the topics still in memory. Memory grows
	// with History as with Window.
	History time.Duration
	// TitleWeight is how many body occurrences one title occurrence counts
	// for: the headline says what the story is about.
	TitleWeight float64
	// NameWeight multiplies the weight of proper names (capitalized words
	// that are not sentence-initial): two events of the same kind differ by
	// who and where.
	NameWeight float64
	// HeadlineNameWeight replaces NameWeight (when lower) in a story without
	// body text (a headline, with or without a link). Names still count
	// above common words, but less: in a few words a doubled name outweighs
	// everything else the headline says, so two headlines of one story that
	// name different actors drift apart, and two stories about one actor
	// fall together. BigramWeight is scaled by the same ratio there, so a
	// name bigram, itself a name, falls by that ratio squared (to 0.78 of a
	// common word with the defaults): it only repeats the two names it
	// joins. A value at or above NameWeight turns it off.
	HeadlineNameWeight float64
	// BigramWeight multiplies the weight of name bigrams ("marco rubio"),
	// which match only when both names occur side by side.
	BigramWeight float64
	// MaxTopicTerms caps the terms a centroid keeps (the heaviest ones); it
	// bounds memory and the cost of comparing against a long-running topic.
	// A storyline of hundreds of headlines is told in many words, and a
	// story that uses only its rarer ones must still find it (see
	// docs/clustering.md for the figures).
	MaxTopicTerms int
	// MinShared is the least number of terms (name bigrams not counted) a
	// story must share with a topic to join it. Two words keep a headline
	// from joining a topic through one incidental word ("Japan"), which at
	// headline thresholds is what lets topics drift into each other.
	MinShared int
	// MergeFactor: two open topics whose centroids' cosine reaches this
	// multiple of the join threshold (for their stories' typical length)
	// are one storyline that started twice, and are merged (the older
	// absorbs the newer). Centroids carry more evidence than single
	// stories, which is what makes this second look worth it for
	// headlines. The bar scales with the join threshold because cosines
	// do: two unrelated headline topics rarely reach 0.2, two articles on
	// the same kind of event (two boxing title defences) easily reach
	// 0.5. Negative disables merging.
	MergeFactor float64
	// FocusShare exempts a headline-only story from MinShared and
	// SupportShare when a word of its headline that it shares with a topic
	// is a proper name in the topic carrying at least this share of the
	// centroid's squared length (in a topic of focusMinSize stories or
	// more): the topic is about it ("Snowden", "Titanfall"), and a headline
	// naming it belongs there whatever else it says. A common word
	// ("prices") is shared by many unrelated topics however much of one
	// centroid it carries, hence the name. 1 disables it.
	FocusShare float64
	// SupportShare: a headline-only story joins a topic only when its
	// cosine to the centroid without the single largest term contribution
	// still reaches this share of the join threshold: a match carried by
	// one heavy word plus a trace of a second ("SXSW" and "2014") is one
	// shared word, not two. Negative disables it.
	SupportShare float64
	// AbsorbFactor: a small open topic (a few stories) whose centroid
	// reaches this multiple of the join threshold against a large one is
	// absorbed by it, when a merge check runs for either. It revisits
	// decisions taken before the storyline or the statistics had formed: a
	// story that opened a topic of its own because its storyline was then
	// two stories with other words. Negative disables it.
	AbsorbFactor float64
	// SplitFactor: a topic whose stories fall into two groups (two-means)
	// whose centroids' cosine is below this multiple of the join threshold
	// holds two storylines, and is split in two. Two events of one kind
	// (two players arrested for the same offence, two actors cast in the
	// same role) share most of their words; a story of one joins the other
	// while both are a story or two, and from then on the mixed topic
	// draws both. The two parts are never merged back together. Only
	// topics that a story joined below this bar are checked, at sizes 6
	// to 24, and only when the caller answers Assignment.SplitCheck with
	// CheckSplit. Negative disables it.
	SplitFactor float64
	// NameSplitFactor: a topic checked for a split (see SplitFactor) whose
	// two groups' centroids are below this multiple of the join threshold,
	// but not below SplitFactor's, is split when the groups are about
	// different actors: the heaviest name of each is a minor word of the
	// other. Two events of one kind share most words and differ in who;
	// the sides of one storyline (a proposal and its rejection) name the
	// same actors and stay together. At or below SplitFactor (or
	// negative) it has no effect.
	NameSplitFactor float64
	// LabelTerms is how many terms (a name bigram counts as one) a topic
	// label has.
	LabelTerms int
}

// DefaultConfig returns the configuration used by the daemon and by eval:
// one setting for long articles and for headline-only feeds, chosen on the
// development sets (ECB+ articles, shuffled UCI headlines); the evaluate
// package's tests print the scores and their neighbourhood.
func DefaultConfig() Config {
	return Config{
		Threshold:          0.30,
		Window:             72 * time.Hour,
		History:            14 * 24 * time.Hour,
		TitleWeight:        2,
		NameWeight:         2,
		HeadlineNameWeight: 1.25,
		BigramWeight:       1,
		MaxTopicTerms:      200,
		LabelTerms:         3,
		HeadlineThreshold:  0.1,
		HeadlineTerms:      8,
		ArticleTerms:       40,
		MergeFactor:        2.4,
		MinShared:          2,
		FocusShare:         0.1,
		SupportShare:       0.25,
		AbsorbFactor:       1,
		SplitFactor:        1.7,
		NameSplitFactor:    2,
	}
}

// withDefaults fills zero fields with their defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Threshold = cmp.Or(c.Threshold, d.Threshold)
	c.Window = cmp.Or(c.Window, d.Window)
	c.History = cmp.Or(c.History, d.History)
	c.TitleWeight = cmp.Or(c.TitleWeight, d.TitleWeight)
	c.NameWeight = cmp.Or(c.NameWeight, d.NameWeight)
	c.HeadlineNameWeight = cmp.Or(c.HeadlineNameWeight, d.HeadlineNameWeight)
	c.BigramWeight = cmp.Or(c.BigramWeight, d.BigramWeight)
	c.MaxTopicTerms = cmp.Or(c.MaxTopicTerms, d.MaxTopicTerms)
	c.HeadlineThreshold = cmp.Or(c.HeadlineThreshold, d.HeadlineThreshold)
	c.HeadlineTerms = cmp.Or(c.HeadlineTerms, d.HeadlineTerms)
	c.ArticleTerms = cmp.Or(c.ArticleTerms, d.ArticleTerms)
	c.MergeFactor = cmp.Or(c.MergeFactor, d.MergeFactor)
	c.MinShared = cmp.Or(c.MinShared, d.MinShared)
	c.FocusShare = cmp.Or(c.FocusShare, d.FocusShare)
	c.SupportShare = cmp.Or(c.SupportShare, d.SupportShare)
	c.AbsorbFactor = cmp.Or(c.AbsorbFactor, d.AbsorbFactor)
	c.SplitFactor = cmp.Or(c.SplitFactor, d.SplitFactor)
	c.NameSplitFactor = cmp.Or(c.NameSplitFactor, d.NameSplitFactor)
	c.LabelTerms = cmp.Or(c.LabelTerms, d.LabelTerms)
	return c
}

// threshold is the join threshold for a story (or topic) whose stories have
// n effective terms.
func (c *Config) threshold(n float64) float64 {
	lo, hi := c.HeadlineTerms, c.ArticleTerms
	switch {
	case n <= lo || hi <= lo:
		return c.HeadlineThreshold
	case n >= hi:
		return c.Threshold
	}
	f := math.Log(n/lo) / math.Log(hi/lo)
	return c.HeadlineThreshold + f*(c.Threshold-c.HeadlineThreshold)
}
