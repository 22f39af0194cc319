package cluster

import "time"

// Document is one story as the clusterer sees it.
type Document struct {
	// ID identifies the story to the caller; the clusterer only echoes it
	// (and keeps the representative story's ID).
	ID string
	// Title is the headline, plain text.
	Title string
	// Text is the plain-text body; it may be empty (headline-only feeds).
	Text string
	// Link is the story's URL, or empty. Many outlets put a headline-like
	// slug in their links ("/2014/03/11/the-cw-unveils-the-flashs-super-suit"),
	// which often names what a terse or generic headline ("Michael Starr",
	// "Share this on:") leaves out; its words count as body words that
	// are also headline words for MinShared.
	Link string
	// Language is a tag such as "en", "fr-CA" or "russian"; empty means
	// English, an unsupported one disables stemming.
	Language string
	// Time is when the story was published. Stories are expected roughly in
	// time order; a zero Time means "now", i.e. the latest time seen.
	Time time.Time
}

// Assignment is what one Add did. With Clusterer.Changed it carries
// everything a store needs to persist the change: DocFreqTerms for the
// global statistics, Merged and Split for the memberships that moved, and
// Closed for topics that left the window.
type Assignment struct {
	// DocID is Document.ID.
	DocID string
	// TopicID is the topic the story joined or opened.
	TopicID int64
	// New is true when the story opened TopicID.
	New bool
	// Similarity is the cosine to the chosen topic's centroid before the
	// story joined it (0 for a new topic).
	Similarity float64
	// DocFreqTerms are the story's distinct terms, sorted: add one to each
	// one's document frequency, and one to State.Docs.
	DocFreqTerms []string
	// Merged lists topics folded into TopicID by this story: their stories
	// now belong to TopicID and the topics no longer exist.
	Merged []int64
	// Split, when not nil, says the topic the story joined was cut in two
	// (only in the Assignment CheckSplit returns).
	Split *Split
	// SplitCheck, when not 0, is TopicID: the topic is young and a story
	// joined it as a stranger, so it may hold two storylines. A caller
	// that keeps the stories reads that topic's (as it stored them, in
	// the order they joined, without the one just added) and hands them
	// to CheckSplit before anything else, and stores that Assignment
	// instead. One that does not may go on: the topic stays whole.
	SplitCheck int64
	// Closed lists, in increasing order, the topics that left the window
	// while this story was added: they take no more stories in time order,
	// only late ones (see Config.History).
	Closed []int64
}

// State is everything a Clusterer needs to continue: plain data, safe to
// encode with encoding/json or gob, or to spread over database tables.
// Rebuilding a Clusterer from the State after N stories and adding the rest
// gives exactly the topics of one uninterrupted run.
type State struct {
	// Docs is the number of stories seen so far.
	Docs int64
	// DocFreq maps each term to the number of stories that contained it.
	DocFreq map[string]int64
	// LastTopicID is the largest topic ID handed out; new IDs continue after
	// it.
	LastTopicID int64
	// Clock is the latest story time seen; topics whose Last is more than
	// Config.Window before it are closed.
	Clock time.Time
	// Topics are the resident topics: those inside the window and those
	// that left it less than Config.History ago (the store loads those
	// whose Kept is no earlier than Clock - Window - History).
	Topics []TopicState
}

// TopicState is one topic: its centroid and what labels it.
type TopicState struct {
	// ID is assigned by the clusterer, increasing from 1.
	ID int64
	// Size is the number of stories in the topic.
	Size int
	// First and Last are the times of its earliest and latest story.
	First, Last time.Time
	// Kept is the clusterer's clock when a story last joined the topic:
	// Last, unless that story was late. A closed topic stays resident for
	// late stories until Kept is Config.History out of the window.
	Kept time.Time
	// Terms is the centroid, sorted by Term: for each term, the sum over the
	// topic's stories of the story's IDF-free weight for it. The IDF is
	// applied when comparing, with the statistics of that moment.
	Terms []TopicTerm
	// EffectiveTerms is the sum over the topic's stories of their effective
	// number of terms; divided by Size it tells headline topics from
	// article topics.
	EffectiveTerms float64
	// Label is the topic's name: a phrase of its representative headline
	// made of the words its stories share most ("Geneva talks"), or, for a
	// headline that holds none of those words, its most distinctive terms.
	Label string
	// HeadlineID and Headline are the ID and title of the story closest to
	// the centroid, and HeadlineLanguage that story's Document.Language
	// (the label reads the headline's words in it).
	HeadlineID       string
	Headline         string
	HeadlineLanguage string `json:",omitempty"`
	// Suspect is set once a story joined the topic at a similarity below
	// the split bar (Config.SplitFactor): the topic may hold two
	// storylines, and is checked for a split while it is young.
	Suspect bool
	// SplitFrom is, for the two topics a split made, the other one: the
	// pair is never merged back together (see Config.SplitFactor).
	SplitFrom int64
	// HeadlineTerms is that story's term vector, kept so that the next
	// story can be compared with it; sorted by Term.
	HeadlineTerms []TermWeight
}

// TopicTerm is one term of a topic centroid.
type TopicTerm struct {
	// Term is a stem, or two stems joined by a space for a name bigram.
	Term string
	// Weight is the summed IDF-free weight over the topic's stories.
	Weight float64
	// Forms are the spellings the term had in the topic's stories.
	Forms []Form
}

// Form is one spelling of a term (case-folded) and how it was capitalized
// where capitals carry meaning (mid-sentence, outside Title Case headlines).
type Form struct {
	// Text is the case-folded spelling ("geneva", "talks").
	Text string
	// Count is how often it occurred.
	Count int32
	// Cased is how often it was capitalized where case is informative, and
	// Lower how often it was lower case there. (32 bits: a centroid keeps
	// hundreds of thousands of these, and no topic has 2³¹ stories.)
	Cased, Lower int32
	// CasedText is its first capitalized spelling seen ("Geneva", "NASA").
	CasedText string
}

// TermWeight is one term of a sparse vector.
type TermWeight struct {
	Term   string
	Weight float64
}

// Memberships is a caller's record of which topic holds which story (a
// table, a map), which Assignment.Apply keeps in step with the clusterer.
type Memberships interface {
	// Merge moves every story of topic from into topic to; from is gone.
	Merge(from, to int64) error
	// Join records that the story docID is in topic.
	Join(docID string, topic int64) error
	// Move moves stories recorded before (a split's) into topic to.
	Move(docIDs []string, to int64) error
}

// Apply records in m what the Add (or CheckSplit) that returned a did, in
// the order that keeps m consistent: the merges, then the story's topic,
// then a split's moves (which may include the story). It stops at m's
// first error.
func (a Assignment) Apply(m Memberships) error {
	for _, from := range a.Merged {
		if err := m.Merge(from, a.TopicID); err != nil {
			return err
		}
	}
	if sp := a.Split; sp != nil {
		// The story is recorded in the topic it joined, then moves with
		// the others if it is on the split-off side.
		if err := m.Join(a.DocID, sp.From.ID); err != nil {
			return err
		}
		return m.Move(sp.Moved, sp.To.ID)
	}
	return m.Join(a.DocID, a.TopicID)
}
