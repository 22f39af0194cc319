package cluster

import (
	"hash/maphash"
	"math"
	"slices"
	"strings"
)

// pendingSplit is a story added, whose topic waits for CheckSplit: the
// clusterer keeps centroids, not stories, and the caller has them.
type pendingSplit struct {
	tp  *topic
	d   Document
	vec docVector
	a   Assignment
}

// CheckSplit finishes the Add that asked for it (Assignment.SplitCheck):
// members are that topic's stories as the caller stored them, without the
// story just added. It splits the topic when its stories fall into two
// storylines (Config.SplitFactor) and returns the story's Assignment, with
// Split set and TopicID the part the story is in when it did. Called at
// any other time, or with members that do not match the topic (the
// caller's view of it differs), it changes nothing.
func (c *Clusterer) CheckSplit(members []Document) Assignment {
	p := c.splitDue
	if p == nil {
		return Assignment{}
	}
	c.splitDue = nil
	a := p.a
	a.SplitCheck = 0
	c.trySplit(p.tp, p.d, &p.vec, members, &a)
	if sp := a.Split; sp != nil {
		c.touch(c.topics[sp.From.ID])
		c.touch(c.topics[sp.To.ID])
	} else {
		c.touch(p.tp)
	}
	return a
}

// endSplitCheck closes a split check the caller did not answer: the topic
// stays whole. Every other exported method starts with it.
func (c *Clusterer) endSplitCheck() {
	if p := c.splitDue; p != nil {
		c.splitDue = nil
		c.touch(p.tp)
	}
}

// splitCheckDue reports whether tp, which a story has just joined, is
// checked for a split.
func (c *Clusterer) splitCheckDue(tp *topic) bool {
	// Only a suspect topic: every story joined the others as closely as
	// one storyline's do.
	return c.cfg.SplitFactor > 0 && isSplitCheck(tp.size) && tp.suspect
}

// Split reports that a topic was found to hold two storylines and was cut
// in two: the Moved stories (by Document.ID) left From for To, a new topic.
// The story being added is in one of the two (Assignment.TopicID).
type Split struct {
	From, To TopicState
	Moved    []string
}

// isSplitCheck reports whether a topic of this size is checked for a
// split. Storylines get mixed while they are small (a story of the other
// event joins a topic of one or two stories), and that is when a split
// repairs most; up to 24 stories, because a split also looks at who the
// two parts are about (Config.NameSplitFactor; figures in
// docs/clustering.md). The stories re-read are recent ones, and memberVecs
// keeps re-reading them cheap.
func isSplitCheck(size int) bool {
	return size >= 2*minSplitPart && size <= splitEvery
}

const splitEvery = 24

// minSplitPart is the least number of stories on each side of a split. Two
// stories unlike the rest are as often a side of the same storyline (the
// rejection of a proposal, next to the proposal) as another event; three
// that hang together and apart from the rest are evidence.
const minSplitPart = 3

// trySplit checks tp, which d has just joined, and splits it when its
// stories fall into two groups whose centroids are further apart than
// Config.SplitFactor times the join threshold: two events of one kind (two
// players arrested for the same offence) that a story of one joined while
// the other's topic was small. Only a suspect topic is checked (one that a
// story joined at a similarity below that bar): the first story of another
// event joins as such a stranger, and checking only those topics costs
// nothing measurable on a stream where storylines rarely mix, while the
// development sets score the same.
func (c *Clusterer) trySplit(tp *topic, d Document, vec *docVector, members []Document, a *Assignment) {
	if len(members) != tp.size-1 || c.topics[tp.id] != tp {
		return // the caller does not know this topic as we do
	}
	docs := append(slices.Clip(members), d)
	n := len(docs)
	// The stories as unit vectors over the topic's own vocabulary, numbered
	// in order of appearance: centroids are then dense arrays, summed and
	// compared in a fixed order.
	raw := c.memberVectors(docs, vec)
	sc := &c.split
	if sc.vocab == nil {
		sc.vocab = make(map[string]int)
	}
	vocab := sc.vocab
	clear(vocab)
	vecs := make([]sparse, n)
	total := 0
	for _, r := range raw {
		total += len(r.terms)
	}
	idx, w := slices.Grow(sc.idx[:0], total), slices.Grow(sc.w[:0], total)
	for i := range raw {
		vecs[i], idx, w = c.weightedVector(raw[i], vocab, idx, w)
	}
	sc.idx, sc.w = idx, w
	dim := len(vocab)
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	// The three centroids are summed again in place as the parts change.
	sc.cent = slices.Grow(sc.cent[:0], 3*dim)[:3*dim]
	whole, ca, cb := dense{w: sc.cent[:dim:dim]}, dense{w: sc.cent[dim : 2*dim : 2*dim]}, dense{w: sc.cent[2*dim:]}
	whole.sum(vecs, all)
	// Two-means from two far-apart seeds: the story least like the whole
	// topic, and the story least like that one.
	sa := argmin(n, func(i int) float64 { return vecs[i].cos(whole) })
	ca.sum(vecs, []int{sa})
	sb := argmin(n, func(i int) float64 {
		if i == sa {
			return math.Inf(1)
		}
		return vecs[i].cos(ca)
	})
	cb.sum(vecs, []int{sb})
	var A, B []int
	for iter := 0; iter < 10; iter++ {
		var na, nb []int
		for i := range vecs {
			if vecs[i].cos(cb) > vecs[i].cos(ca) {
				nb = append(nb, i)
			} else {
				na = append(na, i)
			}
		}
		if len(na) == 0 || len(nb) == 0 {
			return
		}
		stable := slices.Equal(na, A)
		A, B = na, nb
		ca.sum(vecs, A)
		cb.sum(vecs, B)
		if stable {
			break
		}
	}
	if len(A) < minSplitPart || len(B) < minSplitPart {
		return
	}
	th := c.cfg.threshold(tp.neffSum / float64(tp.size))
	if cs := ca.cos(cb); cs >= th*c.cfg.SplitFactor &&
		(cs >= th*c.cfg.NameSplitFactor || !namesClash(raw, vocab, ca, cb)) {
		return
	}
	// The larger part keeps the topic (on a tie, the part with its first
	// story), so that a topic's ID follows most of its stories.
	keep, move := A, B
	if len(B) > len(A) || len(B) == len(A) && B[0] < A[0] {
		keep, move = B, A
	}
	pick := func(idx []int) []Document {
		out := make([]Document, len(idx))
		for k, i := range idx {
			out[k] = docs[i]
		}
		return out
	}
	c.close(tp)
	kept := c.build(tp.id, pick(keep), true)
	c.lastID++
	moved := c.build(c.lastID, pick(move), true)
	kept.sibling, moved.sibling = moved.id, kept.id
	sp := &Split{From: kept.state(), To: moved.state()}
	for _, i := range move {
		sp.Moved = append(sp.Moved, docs[i].ID)
		if i == n-1 {
			a.TopicID = moved.id
		}
	}
	a.Split = sp
}

// splitScratch is what trySplit reuses from one check to the next (made
// anew each time, it was a fifth of the clustering's garbage): the
// stories' vectors share idx and w (see weightedVector), vocab numbers the
// topic's terms, and cent holds the three centroids.
type splitScratch struct {
	idx   []int
	w     []float64
	vocab map[string]int
	cent  []float64
}

// clashShare: two parts of a topic are about different actors when the
// heaviest name of each weighs less than this share as much in the other
// (each weight relative to its part's centroid length).
const clashShare = 0.5

// namesClash reports whether the two parts (centroids a and b over vocab)
// of a topic's stories raw are about different actors: the heaviest name
// of each is a minor word of the other (see clashShare). Two events of one
// kind differ in who (one player arrested and another, one climber lost
// and another), while the sides of one storyline share their actors (a
// proposal and its rejection both name the countries involved).
func namesClash(raw []*docVector, vocab map[string]int, a, b dense) bool {
	isName := make([]bool, len(vocab))
	for _, r := range raw {
		for k, term := range r.terms {
			if j, ok := vocab[term]; ok && r.name[k] && strings.IndexByte(term, ' ') < 0 {
				isName[j] = true
			}
		}
	}
	top := func(x dense) int {
		best := -1
		for j, w := range x.w {
			if isName[j] && w > 0 && (best < 0 || w > x.w[best]) {
				best = j
			}
		}
		return best
	}
	ja, jb := top(a), top(b)
	if ja < 0 || jb < 0 || ja == jb || a.norm == 0 || b.norm == 0 {
		return false
	}
	return b.w[ja]/b.norm < clashShare*a.w[ja]/a.norm && a.w[jb]/a.norm < clashShare*b.w[jb]/b.norm
}

// memberVectors returns the IDF-free vectors of a topic's stories, the
// last one being the story just added (vec), for a split check: they hold
// terms, weights and names, not spellings (see vectorCache).
func (c *Clusterer) memberVectors(docs []Document, vec *docVector) []*docVector {
	out := make([]*docVector, len(docs))
	for i, d := range docs[:len(docs)-1] {
		out[i] = c.memberVector(d)
	}
	last := docs[len(docs)-1]
	out[len(docs)-1] = vec
	c.memberVecs.remember(last, vec)
	return out
}

// memberVector is analyzeDoc for a story re-read from a topic for a split
// check, through the cache of recently re-read stories.
func (c *Clusterer) memberVector(d Document) *docVector {
	if v := c.memberVecs.lookup(d); v != nil {
		return v
	}
	v := c.analyzeDoc(d)
	return c.memberVecs.remember(d, &v)
}

// vectorCache keeps the vectors of the stories of recently checked topics.
// A topic is checked for a split each time a story joins it (at sizes 6
// to 24), and each check re-reads all its stories: without the cache,
// analyzing them again was about 40% of the time spent on long articles.
// A vector is a pure function of the story and the configuration, so the
// cache changes no result; an entry is used only while the story is the
// one it was made from (a hash of its text says so).
//
// An entry keeps what a split check reads (terms, weights, names), not the
// spellings, which are most of a vector's memory; so the cache holds the
// stories of a hundred busy topics in a few megabytes. Building a topic
// (after a split, or a rebuild) analyzes its stories afresh.
//
// It holds two generations: when the current one is full it becomes the
// previous one, and a story found only there moves back to the current
// one. So the stories of topics checked again and again stay, while those
// of topics no longer checked leave within two generations; emptying the
// whole cache when full (as before) re-analyzed every story of the busy
// topics after each fill.
type vectorCache struct {
	cur, prev map[string]cachedVector
}

// vectorSeed seeds the hash of the stories a vectorCache holds.
var vectorSeed = maphash.MakeSeed()

type cachedVector struct {
	sum uint64 // of the story's title, text, link and language
	v   *docVector
}

// maxVectorCache bounds a generation of the cache. On news-like load
// (bench/ingest.sh cold 1000 50) a thousand feeds keep a few hundred
// topics of 6 to 24 stories busy at once: re-analysis took 0.34 s of CPU
// with generations of 4096, 0.55 s with 2048 and 1.6 s with 1024, while
// 2048 held 3.5 MB less at the peak (6 MiB less RSS) than 4096.
const maxVectorCache = 2048

func (vc *vectorCache) lookup(d Document) *docVector {
	e, ok := vc.cur[d.ID]
	if !ok {
		if e, ok = vc.prev[d.ID]; ok {
			delete(vc.prev, d.ID)
			vc.put(d.ID, e)
		}
	}
	if !ok || e.sum != storySum(d) {
		return nil
	}
	return e.v
}

// remember caches what a split check reads of v, and returns it.
func (vc *vectorCache) remember(d Document, v *docVector) *docVector {
	e := cachedVector{storySum(d), &docVector{terms: v.terms, u: v.u, name: v.name}}
	vc.put(d.ID, e)
	return e.v
}

func (vc *vectorCache) put(id string, e cachedVector) {
	if vc.cur == nil || len(vc.cur) >= maxVectorCache {
		vc.prev, vc.cur = vc.cur, make(map[string]cachedVector)
	}
	vc.cur[id] = e
}

// storySum hashes the fields a story's vector depends on; the lengths
// keep "ab"+"c" apart from "a"+"bc".
func storySum(d Document) uint64 {
	var h maphash.Hash
	h.SetSeed(vectorSeed)
	for _, f := range [...]string{d.Title, d.Text, d.Link, d.Language} {
		maphash.WriteComparable(&h, len(f))
		h.WriteString(f)
	}
	return h.Sum64()
}

// sparse is a story's vector over a split check's vocabulary.
type sparse struct {
	idx []int
	w   []float64
}

// dense is a centroid over a split check's vocabulary, with its length.
type dense struct {
	w    []float64
	norm float64
}

// weightedVector is a story's unit-length vector under the current IDF
// (the story is already counted in the statistics), over the vocabulary
// vocab, which it extends. Its arrays are appended to idx and w, which it
// returns: a split check's vectors share two arrays, reused from one check
// to the next (see splitScratch).
func (c *Clusterer) weightedVector(raw *docVector, vocab map[string]int, idx []int, w []float64) (sparse, []int, []float64) {
	start := len(idx)
	var norm float64
	for k, term := range raw.terms {
		s := c.peekStat(term)
		if s == nil {
			continue
		}
		x := raw.u[k] * c.idf(s)
		if x == 0 {
			continue
		}
		j, ok := vocab[term]
		if !ok {
			j = len(vocab)
			vocab[term] = j
		}
		idx = append(idx, j)
		w = append(w, x)
		norm += x * x
	}
	end := len(idx)
	v := sparse{idx: idx[start:end:end], w: w[start:end:end]}
	toUnit(v.w, norm)
	return v, idx, w
}

// sum makes c the sum of the vectors vecs[i] for i in members.
func (c *dense) sum(vecs []sparse, members []int) {
	clear(c.w)
	c.norm = 0
	for _, i := range members {
		for k, j := range vecs[i].idx {
			c.w[j] += vecs[i].w[k]
		}
	}
	for _, x := range c.w {
		c.norm += x * x
	}
	c.norm = math.Sqrt(c.norm)
}

// cos is the cosine between a unit story vector and a centroid.
func (v sparse) cos(c dense) float64 {
	if c.norm == 0 {
		return 0
	}
	var dot float64
	for k, j := range v.idx {
		dot += v.w[k] * c.w[j]
	}
	return dot / c.norm
}

// cos is the cosine between two centroids.
func (a dense) cos(b dense) float64 {
	if a.norm == 0 || b.norm == 0 {
		return 0
	}
	var dot float64
	for j := range a.w {
		dot += a.w[j] * b.w[j]
	}
	return dot / (a.norm * b.norm)
}

// argmin returns the i in [0, n) with the least f(i), the first on ties.
func argmin(n int, f func(int) float64) int {
	best, bv := 0, math.Inf(1)
	for i := 0; i < n; i++ {
		if v := f(i); v < bv {
			best, bv = i, v
		}
	}
	return best
}
