package cluster

import (
	"cmp"
	"container/heap"
	"maps"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"
)

// termStat is the global statistic of one term. Topic centroids point at it,
// so that reading a term's IDF costs no map lookup.
type termStat struct {
	term   string
	df     int64
	logDF  float64 // ln(max(df,1)+1)
	usedAt int64   // Clusterer.docs when a story last used it
	// mergeAt marks the terms of the topic mergeCandidate checks (when it
	// is the pass), with mergeW, the term's weight times its IDF there.
	mergeAt int64
	mergeW  float64
	// spellings are the surface forms of the term that the resident
	// centroids' forms (termForm) number: each spelling is kept once, not
	// once per topic. The list lives as long as the statistic, which
	// outlives every centroid entry of the term (see sweepStats).
	spellings []string
	// post is the inverted index: an entry for each open topic that holds
	// the term; old is the same for the retired topics (see
	// Config.History), which only late stories look at.
	post, old []posting
}

// posting is a resident topic's entry in a term's posting list: its weight
// for the term (a copy of topicTerm.weight) and its slot. The walks over
// posting lists are the clustering's inner loops, and a common word's list
// has an entry for nearly every open topic: with the weight in the entry
// and the per-topic sums and scratch in the Clusterer's slot arrays, such a
// walk reads memory in order instead of following two pointers per entry.
// It holds no pointer, and packs the index of its centroid term in the
// topic's terms (which unpost needs to follow an entry it moves) with the
// term's name flag: there are hundreds of thousands, at 16 bytes, and the
// garbage collector does not scan pointer-free arrays.
type posting struct {
	weight float64
	slot   int32
	ref    uint32 // the term's index in topic.terms | nameBit when a name
}

// nameBit marks a posting whose term is a name in its topic (isName).
const nameBit = 1 << 31

// name reports the term's isName in the topic.
func (p posting) name() bool { return p.ref&nameBit != 0 }

// term returns the index of the posting's centroid term in topic.terms.
func (p posting) term() int { return int(p.ref &^ nameBit) }

func (p *posting) setName(name bool) {
	p.ref &^= nameBit
	if name {
		p.ref |= nameBit
	}
}

func (p *posting) setTerm(i int) { p.ref = p.ref&nameBit | uint32(i) }

// topicTerm is one term of a centroid. There are hundreds of thousands of
// them: it has no pointer to its topic, which every caller has at hand,
// and fits 48 bytes with its first form inline (most terms have one
// spelling in a topic; a list of its own for every term was a tenth of
// the heap). See the methods in vector.go for the forms.
type topicTerm struct {
	stat   *termStat
	weight float64
	pos    int32    // index in its posting list (topic.postings)
	form   termForm // the first form; none when its count is 0
	// more holds the other forms, in order, up to maxForms in all; an
	// entry of count 0 is unused.
	more *[maxForms - 1]termForm
}

// setWeight sets the weight of tp's centroid term tt and its posting's copy.
func (tp *topic) setWeight(tt *topicTerm, w float64) {
	tt.weight = w
	(*tp.postings(tt))[tt.pos].weight = w
}

// noteForms updates the posting's name flag after the forms of tp's
// centroid term tt changed.
func (tp *topic) noteForms(tt *topicTerm) {
	(*tp.postings(tt))[tt.pos].setName(tt.isName())
}

// postings returns the posting list that holds tp's centroid term tt: its
// term's list of open or of retired topics.
func (tp *topic) postings(tt *topicTerm) *[]posting {
	if tp.retired {
		return &tt.stat.old
	}
	return &tt.stat.post
}

// topic is the in-memory form of TopicState, with an index for lookups.
type topic struct {
	id          int64
	size        int
	first, last time.Time
	kept        time.Time    // see TopicState.Kept
	terms       []*topicTerm // sorted by stat.term
	label       string
	headID      string
	headLang    string // the representative story's Document.Language
	headline    string
	headTerms   []TermWeight
	heapIdx     int     // in Clusterer.byLast, or Clusterer.retired when retired
	retired     bool    // out of the window, kept for late stories (Config.History)
	slot        int32   // index in the Clusterer's slot arrays while resident
	neffSum     float64 // sum of the stories' effective numbers of terms
	suspect     bool    // see TopicState.Suspect
	sibling     int64   // see TopicState.SplitFrom
	// dirty is set while the topic is in Clusterer.dirty (see Changed).
	dirty bool
}

// Clusterer assigns stories to topics one at a time. It is not safe for
// concurrent use: the daemon feeds it from its single writer.
type Clusterer struct {
	cfg    Config
	docs   int64
	logN   float64              // ln(docs+1)
	stats  map[string]*termStat // terms in use: see sweepStats
	cold   map[string]int64     // document frequencies of the other terms
	lastID int64
	clock  time.Time
	topics map[int64]*topic
	byLast topicHeap // open topics, least recently updated first
	// retired are the topics that left the window less than
	// Config.History ago, least recently updated first. They are resident
	// (in topics, with postings of their own) for late stories only.
	retired retiredHeap
	// stale is set when the document count or frequencies changed outside
	// Add (Forget, Count): centroid lengths are then recomputed before
	// they are read (settle).
	stale bool
	pass  int64 // numbers the scratch uses of candAt and seenAt
	// statGen counts the changes of a term's ln(df+1) (restat).
	statGen int64
	// The resident topics' slot arrays, indexed by topic.slot; free lists
	// the slots of topics that left memory, for reuse.
	//
	// sums holds a centroid's Σw², Σw²·l and Σw²·l² over its terms,
	// with w a term's weight and l its ln(df+1). With K = ln(N+1)+1 a term's IDF is K-l, so the centroid's
	// length under the IDF of the moment is √(K²·Σw² − 2K·Σw²l + Σw²l²):
	// kept up to date as weights and document frequencies change, it costs
	// nothing to read, where summing the centroid's terms would cost a few
	// hundred steps for every candidate of every story. See normSums for
	// why they are integers.
	//
	// cands is bestTopic's and mergeCandidate's scratch, valid where candAt
	// is the current pass; seenAt marks the topics mergeCandidate looks at.
	slots          []*topic
	sums           []normSums
	cands          []candidate
	candAt, seenAt []int64
	summedAt       []int64 // statGen+1 when a retired topic's sums were made
	free           []int32
	// touched is bestTopic's list of candidate slots, and scores topTerms'
	// scratch, kept to reuse their arrays.
	touched []int32
	scores  []float64
	split   splitScratch
	stems   analysisCache
	// splitDue is the story whose topic Add asked to be checked for a
	// split (Assignment.SplitCheck), until CheckSplit or the next call.
	splitDue *pendingSplit
	// memberVecs caches the vectors of stories re-read for split checks.
	memberVecs vectorCache
	// dirty are the topics changed since the last Changed call, and
	// closedStates the states of those among them that closed since.
	dirty        []*topic
	closedStates map[int64]TopicState
}

// New returns a Clusterer with the given configuration that continues from
// st, or starts empty when st is nil. st is copied, not retained.
func New(cfg Config, st *State) *Clusterer {
	c := &Clusterer{
		cfg:    cfg.withDefaults(),
		stats:  make(map[string]*termStat),
		cold:   make(map[string]int64),
		topics: make(map[int64]*topic),
	}
	if st == nil {
		return c
	}
	c.setDocs(st.Docs)
	c.lastID, c.clock = st.LastTopicID, st.Clock
	for term, df := range st.DocFreq {
		if df > 0 {
			c.cold[term] = df
		}
	}
	for _, ts := range st.Topics {
		tp := &topic{
			id: ts.ID, size: ts.Size, first: ts.First, last: ts.Last, kept: ts.Kept,
			label: ts.Label, neffSum: ts.EffectiveTerms, headID: ts.HeadlineID, headline: ts.Headline, headLang: ts.HeadlineLanguage,
			suspect: ts.Suspect, sibling: ts.SplitFrom,
			headTerms: append([]TermWeight(nil), ts.HeadlineTerms...),
		}
		terms := append([]TopicTerm(nil), ts.Terms...)
		sort.Slice(terms, func(i, j int) bool { return terms[i].Term < terms[j].Term })
		for _, tt := range terms {
			s := c.stat(tt.Term)
			x := &topicTerm{stat: s, weight: tt.Weight}
			for _, f := range tt.Forms {
				if f.Count > 0 { // a form never counted (not saved by state) says nothing
					x.mergeForm(s.termForm(f))
				}
			}
			tp.terms = append(tp.terms, x)
		}
		if tp.id > c.lastID {
			c.lastID = tp.id
		}
		if tp.last.After(c.clock) {
			c.clock = tp.last
		}
		if tp.kept.Before(tp.last) {
			tp.kept = tp.last // a state saved before Kept existed
		}
		c.open(tp)
		c.resum(tp)
	}
	// The topics out of the window are retired, those out of History too
	// old to be kept.
	c.expire()
	c.closedStates = nil
	return c
}

// setDocs sets the document count and the ln(N+1) that every IDF reads.
func (c *Clusterer) setDocs(n int64) {
	c.docs, c.logN = n, math.Log(float64(n)+1)
}

// stat returns the statistic for term, creating it with a zero count.
func (c *Clusterer) stat(term string) *termStat {
	s := c.stats[term]
	if s == nil {
		s = &termStat{term: term}
		if df, ok := c.cold[term]; ok {
			s.df = df
			delete(c.cold, term)
		}
		s.logDF = logDF(s.df)
		c.stats[term] = s
	}
	s.usedAt = c.docs
	return s
}

// logDF is the ln(df+1) of an IDF (a term seen in no document counts as
// seen in one).
func logDF(df int64) float64 { return math.Log(float64(max(df, 1)) + 1) }

// setDF sets a term's document frequency and keeps the centroid sums of the
// open topics that hold it (Clusterer.sums) in step.
func (c *Clusterer) setDF(s *termStat, df int64) {
	l0 := s.logDF
	s.df, s.logDF = df, logDF(df)
	c.restat(s, l0)
}

// restat updates the centroid sums of the topics holding s after its
// ln(df+1) changed from l0.
func (c *Clusterer) restat(s *termStat, l0 float64) {
	l1 := s.logDF
	if l1 == l0 {
		return
	}
	// Only the open topics' sums are kept up to date: a retired topic's are
	// recomputed when a late story reads them (topicNorm), so that the
	// History kept in memory does not add to the cost of every story.
	c.statGen++
	for _, p := range s.post {
		sums := &c.sums[p.slot]
		sums.add(p.weight, l0, -1)
		sums.add(p.weight, l1, 1)
	}
}

// settle brings the centroid sums up to date after
// Forget or Count changed the statistics. It recomputes them all, once,
// instead of at every story those calls take out or add.
func (c *Clusterer) settle() {
	c.endSplitCheck()
	if !c.stale {
		return
	}
	c.stale = false
	for _, s := range c.stats {
		s.logDF = logDF(s.df)
	}
	for _, tp := range c.topics {
		c.resum(tp)
	}
}

// normSums are a centroid's Σw², Σw²l and Σw²l² (see Clusterer.sums) in fixed
// point, each term's share rounded on its own. Integer sums are exact: the
// sums a topic reaches through any sequence of updates are the sums of its
// terms as they are now, so a Clusterer restored from a State (which
// recomputes them) continues bit for bit where the saved one would have,
// and no update order can make two runs differ.
type normSums [3]int64

// sumScale is the fixed point's unit: 2⁻²⁰ keeps a headline's smallest
// share to a few parts in a million, and leaves room for centroid weights
// in the tens of thousands before an int64 overflows.
const sumScale = 1 << 20

// add adds (sign 1) or removes (sign -1) the shares of a term of weight w
// and ln(df+1) l.
func (n *normSums) add(w, l float64, sign int64) {
	w2 := w * w * sumScale
	n[0] += sign * int64(w2+0.5)
	n[1] += sign * int64(w2*l+0.5)
	n[2] += sign * int64(w2*l*l+0.5)
}

// resum computes a resident topic's centroid sums from its terms.
func (c *Clusterer) resum(tp *topic) {
	sums := &c.sums[tp.slot]
	*sums = normSums{}
	for _, tt := range tp.terms {
		sums.add(tt.weight, tt.stat.logDF, 1)
	}
}

// addWeight adds dw to the weight of tp's centroid term tt, keeping the
// topic's sums in step.
func (c *Clusterer) addWeight(tp *topic, tt *topicTerm, dw float64) {
	sums := &c.sums[tp.slot]
	sums.add(tt.weight, tt.stat.logDF, -1)
	sums.add(tt.weight+dw, tt.stat.logDF, 1)
	tp.setWeight(tt, tt.weight+dw)
}

// peekStat returns the statistic for term without creating one, nil for a
// term never seen.
func (c *Clusterer) peekStat(term string) *termStat {
	if s := c.stats[term]; s != nil {
		return s
	}
	if df, ok := c.cold[term]; ok {
		return &termStat{term: term, df: df, logDF: logDF(df)}
	}
	return nil
}

// sweepEvery is how many stories pass between two sweeps of the term
// statistics (sweepStats).
const sweepEvery = 2048

// sweepStats moves the statistics of terms that no open topic holds and no
// story used for sweepEvery stories to the cold map. Every term ever seen
// keeps its document frequency, so results do not change; but the map that
// every story reads, and whose entries the garbage collector follows, is
// bounded by the news of the window instead of growing with history. A
// term comes back on its next use. The cost is amortized over sweepEvery
// stories.
func (c *Clusterer) sweepStats() {
	for term, s := range c.stats {
		if c.docs-s.usedAt < sweepEvery || len(s.post) > 0 || len(s.old) > 0 {
			continue
		}
		if s.df > 0 {
			c.cold[term] = s.df
		}
		delete(c.stats, term)
	}
}

// idf is the smoothed inverse document frequency with the statistics of this
// moment, ln((N+1)/(df+1)) + 1. Smoothing keeps the first stories
// comparable: with few documents every term weighs about the same, which is
// plain term overlap, the best one can do before statistics exist.
// ln(df+1) is kept per term and ln(N+1) per story, so no logarithm is taken
// here.
func (c *Clusterer) idf(s *termStat) float64 {
	return c.logN - s.logDF + 1
}

// Add analyzes a story, assigns it to a topic (an existing one or a new one)
// and updates the statistics. It never fails: a story without content words
// opens a topic of its own.
func (c *Clusterer) Add(d Document) Assignment {
	return c.add(d, c.analyzeDoc(d))
}

// AddAnalyzed is Add for a story analyzed already (see Analyzer), with the
// same result.
func (c *Clusterer) AddAnalyzed(x Analyzed) Assignment {
	if x.cfg == nil || *x.cfg != c.cfg {
		return c.Add(x.doc) // analyzed for another configuration
	}
	return c.add(x.doc, x.vec)
}

func (c *Clusterer) add(d Document, vec docVector) Assignment {
	c.settle()
	t, late := c.storyTime(d.Time)
	a := Assignment{DocID: d.ID, DocFreqTerms: vec.terms}
	a.Closed = c.expire()

	c.setDocs(c.docs + 1)
	if c.docs%sweepEvery == 0 {
		c.sweepStats()
	}
	stats := make([]*termStat, len(vec.terms))
	for i, term := range vec.terms {
		s := c.stat(term)
		c.setDF(s, s.df+1)
		stats[i] = s
	}

	w, norm, neff := c.weigh(&vec, stats)
	th := c.cfg.threshold(neff)

	var at *time.Time
	if late {
		at = &t
	}
	best, bestSim := c.bestTopic(&vec, stats, w, norm, neff, th, at)
	if best == nil || bestSim < th {
		c.lastID++
		best = &topic{id: c.lastID, first: t, last: t}
		c.open(best)
		a.New = true
		bestSim = 0
	}
	best.neffSum += neff
	if !a.New && bestSim < th*c.cfg.SplitFactor {
		// As unlike the topic as two storylines are unlike each other.
		best.suspect = true
	}
	c.join(best, d, t, &vec, stats)
	a.Similarity = bestSim
	a.TopicID = best.id
	if best.retired {
		// A late story's storyline of its own time: it is not reopened,
		// and neither merged nor split, which are for open topics.
		c.touch(best)
		return a
	}
	var mergeSim float64
	if due(best.size) && !(a.New && late) {
		best, mergeSim = c.tryMerge(best, &a)
	}
	if a.New && len(a.Merged) == 1 && a.Merged[0] == c.lastID {
		// The topic the story opened was merged into an older one at
		// once: to the caller the story joined that one, and the ID is
		// handed out again.
		a.New, a.Merged, a.Similarity = false, nil, mergeSim
		c.lastID--
		c.touch(best)
		a.TopicID = best.id
		return a
	}
	a.TopicID = best.id
	if len(a.Merged) == 0 && c.splitCheckDue(best) {
		// The caller hands the topic's stories to CheckSplit.
		a.SplitCheck = best.id
		c.splitDue = &pendingSplit{tp: best, d: d, vec: vec, a: a}
		return a
	}
	c.touch(best)
	return a
}

// due reports whether a topic that a story has just joined, now of this
// size, is checked for a twin (tryMerge) and named again (label). A story
// moves a centroid by about 1/size of it, so both happen at every story
// while a topic is small (up to 8 stories), then every 4 stories, and from
// 64 stories on at multiples of an eighth of the size rounded down to a
// power of two (every 8 stories from 64, 16 from 128...): eight times per
// doubling of the size from then on. It depends on the size alone, so a
// restarted clusterer keeps the same schedule.
func due(size int) bool {
	return size <= 8 || size%max(4, 1<<(bits.Len(uint(size))-4)) == 0
}

// touch records that a resident topic changed, for Changed.
func (c *Clusterer) touch(tp *topic) {
	if tp != nil && !tp.dirty {
		tp.dirty = true
		c.dirty = append(c.dirty, tp)
	}
}

// Changed calls save with the state of every topic that Add or Rebuild
// changed since the last call, in increasing ID order: the open and
// retired ones as they are now, and those that left memory since as they
// were then. Topics merged away (Assignment.Merged) or left empty by
// Rebuild are not among them. A store saves these once per batch of
// stories instead of copying a topic at every story (a large topic's
// centroid has hundreds of terms), and one at a time, each state made
// just before it is saved. Changed stops at save's first error and
// returns it; the topics are forgotten as saved either way.
func (c *Clusterer) Changed(save func(TopicState) error) error {
	c.endSplitCheck()
	closed := c.closedStates
	c.closedStates = nil
	ids := slices.Collect(maps.Keys(closed))
	for _, tp := range c.dirty {
		if tp.dirty && c.topics[tp.id] == tp {
			ids = append(ids, tp.id)
		}
	}
	clear(c.dirty)
	c.dirty = c.dirty[:0]
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		ts, ok := closed[id]
		if tp := c.topics[id]; tp != nil && tp.dirty {
			ts, ok = tp.state(), true
			tp.dirty = false
		}
		if !ok {
			continue
		}
		if err := save(ts); err != nil {
			for _, tp := range c.topics {
				tp.dirty = false
			}
			return err
		}
	}
	return nil
}

// storyTime returns the time a story is filed at, and moves the clock
// forward to it. A story without a time is filed as arriving now. A story
// older than the window is late: it is filed at its own time, among the
// storylines of that time (see bestTopic), so that a feed's backlog or a
// first import of feeds spanning weeks forms the storylines of those weeks
// and the open set stays the size of the window.
func (c *Clusterer) storyTime(t time.Time) (filed time.Time, late bool) {
	if t.IsZero() {
		return c.clock, false
	}
	if t.After(c.clock) {
		c.clock = t
	}
	return t, c.clock.Sub(t) > c.cfg.Window
}

// ofTime reports whether a topic was open at time t: its latest story is
// no older than the window before t, and its first no later than the
// window after t.
func (c *Clusterer) ofTime(tp *topic, t time.Time) bool {
	return !tp.last.Before(t.Add(-c.cfg.Window)) && !tp.first.After(t.Add(c.cfg.Window))
}

// weigh returns a story's weights with the current IDF, their Euclidean
// length and the story's effective number of terms (Config.HeadlineTerms).
func (c *Clusterer) weigh(vec *docVector, stats []*termStat) (w []float64, norm, neff float64) {
	w = make([]float64, len(vec.terms))
	var quad float64
	for i, s := range stats {
		w[i] = vec.u[i] * c.idf(s)
		norm += w[i] * w[i]
		quad += w[i] * w[i] * w[i] * w[i]
	}
	if quad > 0 {
		neff = norm * norm / quad
	}
	return w, math.Sqrt(norm), neff
}

// tryMerge merges tp with its most similar converged topic, if any, and
// returns the surviving topic and the two centroids' cosine.
func (c *Clusterer) tryMerge(tp *topic, a *Assignment) (*topic, float64) {
	best := tp
	o, sim := c.mergeCandidate(tp)
	if o != nil {
		keep, gone := best, o
		if o.id < best.id {
			keep, gone = o, best
		}
		c.merge(keep, gone)
		a.Merged = append(a.Merged, gone.id)
		best = keep
	}
	return best, sim
}

// bestTopic scores the open topics that share a term with the story and
// returns the most similar one (lowest ID on ties).
//
// A headline's match must not rest on one word either: without its largest
// term contribution the cosine must still reach SupportShare of the
// threshold, unless the topic is about that word (FocusShare). Two shared
// words of which one is incidental ("SXSW" plus "2014") are one shared word.
//
// A topic is a candidate only when it shares MinShared words with the
// story's headline or link slug (or all of their words, when they have
// fewer), not just anywhere in the story: a headline says what the story
// is about, while its body also carries boilerplate ("Full story to follow
// shortly") and background that unrelated stories share. Without
// statistics (the first stories of a stream) the IDF cannot tell such
// words apart, and one common headline verb plus boilerplate would join a
// snowstorm to a bridge closure. A story without a headline counts all its
// words.
//
// A late story (late is its time, nil for others) is scored against the
// open and the retired topics of its own time (ofTime) instead of the open
// ones: the storylines it would have met had it arrived in time order.
func (c *Clusterer) bestTopic(vec *docVector, stats []*termStat, w []float64, norm, neff, th float64, late *time.Time) (*topic, float64) {
	if norm == 0 {
		return nil, 0
	}
	terms := vec.terms
	need, titleWords := c.cfg.MinShared, 0
	for i, term := range terms {
		if vec.head[i] && w[i] != 0 && strings.IndexByte(term, ' ') < 0 {
			titleWords++
		}
	}
	titleOnly := titleWords > 0 && neff < math.Sqrt(c.cfg.HeadlineTerms*c.cfg.ArticleTerms)
	if titleOnly {
		need = min(need, titleWords)
	}
	// Dot products through the inverted index: only topics sharing a term
	// are touched. Each topic receives its contributions in the story's
	// (sorted) term order, so the sums do not depend on the order of the
	// posting lists.
	c.pass++
	touched := c.touched[:0]
	for i, term := range terms {
		if w[i] == 0 {
			continue
		}
		idf := c.idf(stats[i])
		counts := strings.IndexByte(term, ' ') < 0 && (vec.head[i] || !titleOnly)
		lists := [2][]posting{stats[i].post}
		if late != nil {
			lists[1] = stats[i].old
		}
		for _, list := range lists {
			for _, p := range list {
				sl := p.slot
				cd := &c.cands[sl]
				if c.candAt[sl] != c.pass {
					*cd = candidate{tp: c.slots[sl]}
					c.candAt[sl] = c.pass
					touched = append(touched, sl)
					cd.skip = late != nil && !c.ofTime(cd.tp, *late)
				}
				if cd.skip {
					continue
				}
				x := p.weight * idf
				cd.dot += w[i] * x
				cd.top = max(cd.top, w[i]*x)
				if counts {
					cd.shared++
					if titleOnly && c.cfg.FocusShare < 1 && cd.tp.size >= focusMinSize && p.name() {
						if tn := c.topicNorm(cd.tp); tn > 0 {
							cd.focus = max(cd.focus, x*x/(tn*tn))
						}
					}
				}
			}
		}
	}
	// touched is in posting order; nothing below depends on the order (the
	// best topic is chosen with ties broken by ID).
	c.touched = touched
	var best *topic
	bestSim := -1.0
	for _, sl := range touched {
		cd := &c.cands[sl]
		focal := cd.focus >= c.cfg.FocusShare
		if cd.skip || cd.dot <= 0 || int(cd.shared) < need && !focal {
			continue
		}
		tn := c.topicNorm(cd.tp)
		if tn == 0 {
			continue
		}
		if titleOnly && !focal && c.cfg.SupportShare > 0 && (cd.dot-cd.top)/(norm*tn) < c.cfg.SupportShare*th {
			continue
		}
		if sim := cd.dot / (norm * tn); sim > bestSim || sim == bestSim && cd.tp.id < best.id {
			best, bestSim = cd.tp, sim
		}
	}
	return best, bestSim
}

// candidate is a topic that shares a term with the story bestTopic scores.
type candidate struct {
	tp  *topic
	dot float64 // story · centroid under the current IDF
	top float64 // the largest contribution of one term to dot
	// topStat is the term of top (merge candidates only).
	topStat *termStat
	// focus is the largest share of the centroid's squared length carried
	// by one shared headline word that is a name in the topic (see
	// Config.FocusShare).
	focus  float64
	shared int32 // shared words that count towards Config.MinShared
	skip   bool  // not of a late story's time
}

// focusMinSize is the least size of a topic that a short story may join
// through one focal word (Config.FocusShare): in a topic of a few stories,
// one word dominates the centroid by chance.
const focusMinSize = 10

// isName reports whether a centroid term was mostly capitalized where case
// is informative, i.e. is a proper name.
func (tt *topicTerm) isName() bool {
	cased, lower := tt.caseCounts()
	return cased > lower
}

// topicNorm is the length of a resident topic's centroid under the current
// IDF, from its sums (see Clusterer.sums).
func (c *Clusterer) topicNorm(tp *topic) float64 {
	if tp.retired && c.summedAt[tp.slot] != c.statGen+1 {
		// Integer sums: the same as if they had been kept up to date.
		c.resum(tp)
		c.summedAt[tp.slot] = c.statGen + 1
	}
	k := c.logN + 1
	s := &c.sums[tp.slot]
	if n2 := (k*k*float64(s[0]) - 2*k*float64(s[1]) + float64(s[2])) / sumScale; n2 > 0 {
		return math.Sqrt(n2)
	}
	return 0
}

// join adds the story's vector to the topic and refreshes its label and
// representative headline.
func (c *Clusterer) join(tp *topic, d Document, t time.Time, vec *docVector, stats []*termStat) {
	tp.size++
	if t.Before(tp.first) {
		tp.first = t
	}
	if t.After(tp.last) {
		tp.last = t
	}
	tp.kept = maxTime(tp.kept, c.clock)
	heap.Fix(c.heapOf(tp), tp.heapIdx)
	n0 := len(tp.terms)
	for i := range vec.terms {
		tt := c.termOf(tp, stats[i], n0)
		c.addWeight(tp, tt, vec.u[i])
		for _, s := range vec.forms[i] {
			tt.addForm(s)
		}
		tp.noteForms(tt)
	}
	if len(tp.terms) > n0 {
		c.settleTerms(tp, n0)
	}
	c.updateHeadline(tp, d, vec)
	if due(tp.size) {
		tp.label = c.label(tp)
	}
}

// termOf returns tp's centroid entry for a term, appending an empty one
// when tp lacks it. Appended entries leave tp.terms out of order until
// settleTerms; until then only the sorted run tp.terms[:n0] is searched, so
// a caller looks up each term once.
func (c *Clusterer) termOf(tp *topic, s *termStat, n0 int) *topicTerm {
	if tt := findTerm(tp.terms[:n0], s.term); tt != nil {
		return tt
	}
	tt := &topicTerm{stat: s}
	tp.terms = append(tp.terms, tt)
	tp.post(tt, len(tp.terms)-1)
	return tt
}

// find returns tp's centroid entry for term, or nil.
func (tp *topic) find(term string) *topicTerm { return findTerm(tp.terms, term) }

// findTerm binary-searches a list of centroid entries sorted by term.
func findTerm(terms []*topicTerm, term string) *topicTerm {
	k, ok := slices.BinarySearchFunc(terms, term, func(tt *topicTerm, t string) int { return strings.Compare(tt.stat.term, t) })
	if !ok {
		return nil
	}
	return terms[k]
}

// settleTerms sorts tp's terms after termOf appended new ones from n0 on and
// prunes them when over the cap. Callers add terms in term order, so the
// appended ones are a sorted run of their own.
func (c *Clusterer) settleTerms(tp *topic, n0 int) {
	if k := mergeRuns(tp.terms, n0); k >= 0 {
		tp.reindex(k)
	}
	switch {
	case tp.retired:
		// Cut at once, as a restart would cut it (New retires it again):
		// late stories are few, so there is nothing to amortize.
		c.pruneTo(tp, retiredTerms)
	case len(tp.terms) > c.cfg.MaxTopicTerms+c.cfg.MaxTopicTerms/4:
		c.prune(tp)
	}
}

// mergeRuns merges the sorted runs terms[:n0] and terms[n0:] (which hold no
// term twice) into one sorted list (by term), in place: from the back, so
// that only the short new run is copied aside, not a large centroid. It
// returns the first index whose entry changed, or -1 when none did.
func mergeRuns(terms []*topicTerm, n0 int) int {
	if n0 == 0 || n0 == len(terms) || terms[n0-1].stat.term < terms[n0].stat.term {
		return -1
	}
	run := slices.Clone(terms[n0:])
	i, k := n0-1, len(terms)-1
	for j := len(run) - 1; j >= 0; k-- {
		if i >= 0 && terms[i].stat.term > run[j].stat.term {
			terms[k] = terms[i]
			i--
		} else {
			terms[k] = run[j]
			j--
		}
	}
	return k + 1
}

// reindex records in their postings where tp's terms from index from on
// now are (see posting.ref).
func (tp *topic) reindex(from int) {
	for i := from; i < len(tp.terms); i++ {
		tt := tp.terms[i]
		(*tp.postings(tt))[tt.pos].setTerm(i)
	}
}

// prune keeps the MaxTopicTerms heaviest terms of a centroid. It runs when
// the centroid has grown a quarter past the cap, so its cost is amortized
// over the stories that brought a quarter of the cap in new terms. (Pruning
// at twice the cap scored the same and held a third more terms: large
// topics are most of the centroids' memory.)
func (c *Clusterer) prune(tp *topic) { c.pruneTo(tp, c.cfg.MaxTopicTerms) }

// pruneTo keeps the n heaviest terms of a centroid (ties by term).
func (c *Clusterer) pruneTo(tp *topic, n int) {
	if len(tp.terms) <= n {
		return
	}
	// The weights copied next to their indexes: the sort compares floats
	// in one array, and reaches the terms only on a tie.
	type ranked struct {
		w float64
		i int
	}
	order := make([]ranked, len(tp.terms))
	for i, tt := range tp.terms {
		order[i] = ranked{tt.weight, i}
	}
	slices.SortFunc(order, func(a, b ranked) int {
		if a.w != b.w {
			return cmp.Compare(b.w, a.w)
		}
		return strings.Compare(tp.terms[a.i].stat.term, tp.terms[b.i].stat.term)
	})
	keep := make([]bool, len(tp.terms))
	for _, r := range order[:n] {
		keep[r.i] = true
	}
	kept := tp.terms[:0]
	var dropped []*topicTerm
	first := -1
	for i, tt := range tp.terms {
		if keep[i] {
			kept = append(kept, tt)
		} else {
			dropped = append(dropped, tt)
			if first < 0 {
				first = i
			}
		}
	}
	clear(tp.terms[len(kept):])
	tp.terms = kept
	tp.reindex(first)
	for _, tt := range dropped {
		c.unpost(tp, tt)
	}
	c.resum(tp)
}

// updateHeadline keeps as representative whichever of the current one and
// the new story is closer to the updated centroid (the current one on ties,
// so the headline does not flicker).
func (c *Clusterer) updateHeadline(tp *topic, d Document, vec *docVector) {
	cand := make([]TermWeight, len(vec.terms))
	for i, term := range vec.terms {
		cand[i] = TermWeight{Term: term, Weight: vec.u[i]}
	}
	if (tp.headline != "" || tp.headID != "") && c.joinedSim(tp, tp.headTerms) >= c.joinedSim(tp, cand) {
		return
	}
	tp.headID, tp.headline, tp.headTerms, tp.headLang = d.ID, d.Title, cand, d.Language
}

// joinedSim is headSim summing the story's length over the centroid's terms
// first and the pruned ones after. It is not headSim because the two orders
// round differently in the last bit, and in a near tie that decides which
// story represents a topic.
func (c *Clusterer) joinedSim(tp *topic, v []TermWeight) float64 {
	var dot, n float64
	in := make([]*topicTerm, len(v))
	for i, tw := range v {
		if tt := tp.find(tw.Term); tt != nil {
			in[i] = tt
			idf := c.idf(tt.stat)
			x := tw.Weight * idf
			dot += x * tt.weight * idf
			n += x * x
		}
	}
	// Terms pruned from the centroid still count in the story's length.
	for i, tw := range v {
		if in[i] == nil {
			if s := c.peekStat(tw.Term); s != nil {
				x := tw.Weight * c.idf(s)
				n += x * x
			}
		}
	}
	tn := c.topicNorm(tp)
	if n == 0 || tn == 0 {
		return 0
	}
	return dot / (math.Sqrt(n) * tn)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// open registers a topic as a candidate: it gets a slot, its terms are
// posted, and its centroid sums are those of its terms (resum) once it
// has any.
func (c *Clusterer) open(tp *topic) {
	if n := len(c.free); n > 0 {
		tp.slot = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		tp.slot = int32(len(c.slots))
		c.slots = append(c.slots, nil)
		c.sums = append(c.sums, normSums{})
		c.cands = append(c.cands, candidate{})
		c.candAt = append(c.candAt, 0)
		c.seenAt = append(c.seenAt, 0)
		c.summedAt = append(c.summedAt, 0)
	}
	c.slots[tp.slot], c.sums[tp.slot] = tp, normSums{}
	c.candAt[tp.slot], c.seenAt[tp.slot], c.summedAt[tp.slot] = 0, 0, 0
	c.topics[tp.id] = tp
	heap.Push(&c.byLast, tp)
	for i, tt := range tp.terms {
		tp.post(tt, i)
	}
}

// release takes a resident topic (open or retired) that is leaving the
// clusterer out of the posting lists and its heap, and frees its slot.
func (c *Clusterer) release(tp *topic) {
	for _, tt := range tp.terms {
		c.unpost(tp, tt)
	}
	heap.Remove(c.heapOf(tp), tp.heapIdx)
	c.slots[tp.slot], c.cands[tp.slot] = nil, candidate{}
	c.free = append(c.free, tp.slot)
	delete(c.topics, tp.id)
}

// heapOf returns the heap that holds a resident topic.
func (c *Clusterer) heapOf(tp *topic) heap.Interface {
	if tp.retired {
		return &c.retired
	}
	return &c.byLast
}

// post adds tp's centroid entry tt to its term's posting list of open or
// of retired topics, as its term number i (in tp.terms); tp is resident.
func (tp *topic) post(tt *topicTerm, i int) {
	list := tp.postings(tt)
	tt.pos = int32(len(*list))
	p := posting{weight: tt.weight, slot: tp.slot}
	p.setTerm(i)
	p.setName(tt.isName())
	*list = append(*list, p)
}

// unpost takes tp's centroid entry tt out of its posting list, moving the
// last entry into its place (another topic's: a topic holds a term once).
func (c *Clusterer) unpost(tp *topic, tt *topicTerm) {
	list := tp.postings(tt)
	last := int32(len(*list) - 1)
	if tt.pos != last {
		moved := (*list)[last]
		(*list)[tt.pos] = moved
		mt := c.slots[moved.slot].terms[moved.term()]
		if mt.stat != tt.stat {
			// A bookkeeping bug would otherwise corrupt another topic quietly.
			panic("cluster: a posting list is out of step with its centroids")
		}
		mt.pos = tt.pos
	}
	*list = (*list)[:last]
	if last == 0 {
		*list = nil
	}
}

// expire closes the topics whose latest story is older than the window and
// returns their IDs in increasing order. A closed topic is retired: it
// stays resident for late stories until its latest story is more than
// Config.History older than the window, and then leaves memory (its state
// is the store's). What counts for that is when a story last joined it
// (kept), not the story's own time: the topics a first import of old
// stories forms stay resident while the import goes on.
func (c *Clusterer) expire() []int64 {
	var closed []int64
	limit := c.clock.Add(-c.cfg.Window)
	for len(c.byLast) > 0 && c.byLast[0].last.Before(limit) {
		closed = append(closed, c.byLast[0].id)
		c.retire(c.byLast[0])
	}
	limit = limit.Add(-c.cfg.History)
	for len(c.retired.topicHeap) > 0 && c.retired.topicHeap[0].kept.Before(limit) {
		tp := c.retired.topicHeap[0]
		if tp.dirty {
			if c.closedStates == nil {
				c.closedStates = make(map[int64]TopicState)
			}
			c.closedStates[tp.id] = tp.state()
			tp.dirty = false
		}
		c.release(tp)
	}
	slices.Sort(closed)
	return closed
}

// retiredTerms is how many of its heaviest terms a retired topic keeps.
// Only late stories look at retired topics, and a first import of weeks of
// stories retires more topics than it leaves open: with every centroid
// term kept, the retired ones held more than half of the clusterer's
// memory (bench/ingest.sh cold 1000 50: 837 retired and 676 open topics at
// the end). The heaviest 50 terms carry most of a centroid's length, so a
// late story still finds its storyline (TestLateStoryJoinsARetiredLongStoryline).
// A late story's join cuts the centroid back to them (settleTerms).
const retiredTerms = 50

// retire moves an open topic to the retired ones: out of the candidates of
// stories in time, resident for late ones, with its centroid cut to
// retiredTerms.
func (c *Clusterer) retire(tp *topic) {
	heap.Remove(&c.byLast, tp.heapIdx)
	c.pruneTo(tp, retiredTerms)
	// The list had room for a quarter over MaxTopicTerms; a retired topic
	// grows only by late stories.
	tp.terms = slices.Clone(tp.terms)
	for _, tt := range tp.terms {
		c.unpost(tp, tt)
	}
	tp.retired = true
	for i, tt := range tp.terms {
		tp.post(tt, i)
	}
	heap.Push(&c.retired, tp)
}

// Topic returns the state of an open topic.
func (c *Clusterer) Topic(id int64) (TopicState, bool) {
	c.settle()
	tp, ok := c.topics[id]
	if !ok || tp.retired {
		return TopicState{}, false
	}
	return tp.state(), true
}

// Topics returns the resident topics, open and retired (Config.History), in
// increasing ID order.
func (c *Clusterer) Topics() []TopicState {
	c.settle()
	ids := slices.Sorted(maps.Keys(c.topics))
	out := make([]TopicState, len(ids))
	for i, id := range ids {
		out[i] = c.topics[id].state()
	}
	return out
}

// LastTopicID is the largest topic ID handed out so far, including those of
// topics merged away since: IDs are never handed out twice.
func (c *Clusterer) LastTopicID() int64 { return c.lastID }

// Snapshot returns the full state, from which New rebuilds an identical
// Clusterer.
func (c *Clusterer) Snapshot() State {
	st := State{
		Docs: c.docs, LastTopicID: c.lastID, Clock: c.clock,
		DocFreq: make(map[string]int64, len(c.stats)+len(c.cold)),
		Topics:  c.Topics(),
	}
	for term, s := range c.stats {
		if s.df > 0 {
			st.DocFreq[term] = s.df
		}
	}
	for term, df := range c.cold {
		st.DocFreq[term] = df
	}
	return st
}

// state copies a topic into its plain-data form.
func (tp *topic) state() TopicState {
	ts := TopicState{
		ID: tp.id, Size: tp.size, First: tp.first, Last: tp.last, Kept: tp.kept,
		Label: tp.label, EffectiveTerms: tp.neffSum, HeadlineID: tp.headID, Headline: tp.headline, HeadlineLanguage: tp.headLang,
		Suspect: tp.suspect, SplitFrom: tp.sibling,
		HeadlineTerms: append([]TermWeight(nil), tp.headTerms...),
		Terms:         make([]TopicTerm, len(tp.terms)),
	}
	for i, tt := range tp.terms {
		ts.Terms[i] = TopicTerm{Term: tt.stat.term, Weight: tt.weight, Forms: tt.forms()}
	}
	return ts
}

// retiredHeap orders retired topics by when a story last joined them, then
// by ID.
type retiredHeap struct{ topicHeap }

func (h retiredHeap) Less(i, j int) bool {
	a, b := h.topicHeap[i], h.topicHeap[j]
	if !a.kept.Equal(b.kept) {
		return a.kept.Before(b.kept)
	}
	return a.id < b.id
}

// topicHeap orders open topics by their latest story, then by ID, so that
// expiry pops them in a deterministic order.
type topicHeap []*topic

func (h topicHeap) Len() int { return len(h) }
func (h topicHeap) Less(i, j int) bool {
	if !h[i].last.Equal(h[j].last) {
		return h[i].last.Before(h[j].last)
	}
	return h[i].id < h[j].id
}
func (h topicHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *topicHeap) Push(x any) {
	tp := x.(*topic)
	tp.heapIdx = len(*h)
	*h = append(*h, tp)
}
func (h *topicHeap) Pop() any {
	old := *h
	tp := old[len(old)-1]
	*h = old[:len(old)-1]
	tp.heapIdx = -1
	return tp
}
