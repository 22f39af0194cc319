package cluster

import (
	"container/heap"
	"math"
	"slices"
	"strings"
)

// mergeTerms is how many of a topic's heaviest terms are looked up in the
// inverted index to find topics it may have converged with.
const mergeTerms = 20

// A topic of at most absorbMaxSize stories is absorbed by one of at least
// absorbMinSize whose centroid it matches at Config.AbsorbFactor times the
// join threshold (see AbsorbFactor).
const (
	absorbMaxSize = 3
	absorbMinSize = 10
)

// Two topics of at most smallPairSize stories each (a story that has just
// opened a topic too) are merged at smallPairFactor times the join
// threshold, below the MergeFactor bar and on one shared word, when the
// word that carries most of their similarity is held by no other open
// topic. Outlets paraphrase each other, and a storyline of a few short
// items ("Smart Elephants" / "Elephants can tell human voices apart")
// often shares one word across them; a word that two small topics alone
// hold is their storyline's more often than not, while a word that others
// hold too ("stocks", "SXSW" once a third topic has it) is no evidence.
// Figures in docs/clustering.md.
const (
	smallPairSize     = 5
	smallPairFactor   = 2.0
	smallPairDocShare = 0.1
)

// mergeCandidate returns the open topic that best clears its merge bar
// against tp (centroid cosine over the bar), or nil when none does. The bar
// is set by Config.MergeFactor, or for a small topic against a large one by
// Config.AbsorbFactor, when they share MinShared words.
func (c *Clusterer) mergeCandidate(tp *topic) (*topic, float64) {
	if c.cfg.MergeFactor < 0 {
		return nil, 0
	}
	c.pass++
	var seen []*topic
	c.seenAt[tp.slot] = c.pass
	if tp.size == 1 {
		// A story that has just opened a topic was found to match no
		// topic it may join: it is checked at once only for a small pair
		// on a word one other topic holds (see smallPairFactor), which
		// are few to look at.
		for _, tt := range tp.terms {
			if post := tt.stat.post; len(post) == 2 {
				for _, p := range post {
					if c.seenAt[p.slot] != c.pass && c.slots[p.slot].size <= smallPairSize {
						c.seenAt[p.slot] = c.pass
						seen = append(seen, c.slots[p.slot])
					}
				}
			}
		}
	} else {
		for _, k := range c.topTerms(tp, mergeTerms) {
			for _, p := range tp.terms[k].stat.post {
				if c.seenAt[p.slot] != c.pass {
					c.seenAt[p.slot] = c.pass
					seen = append(seen, c.slots[p.slot])
				}
			}
		}
	}
	if len(seen) == 0 {
		return nil, 0
	}
	for _, o := range seen {
		c.cands[o.slot] = candidate{tp: o}
	}
	// The dot products with the topics seen, each summed over the shared
	// terms in term order. Either through the posting lists of tp's terms,
	// or through the seen topics' own terms, marking tp's: the sums are the
	// same, bit for bit, and the cheaper way depends on how common tp's
	// words are against how many topics were seen.
	var viaPosts, viaSeen int
	for _, x := range tp.terms {
		viaPosts += len(x.stat.post)
	}
	for _, o := range seen {
		viaSeen += len(o.terms)
	}
	if viaPosts <= viaSeen {
		for _, x := range tp.terms {
			idf := c.idf(x.stat)
			word := strings.IndexByte(x.stat.term, ' ') < 0
			for _, y := range x.stat.post {
				if c.seenAt[y.slot] == c.pass && y.slot != tp.slot {
					c.cands[y.slot].add(x.weight*idf*y.weight*idf, word, x.stat)
				}
			}
		}
	} else {
		for _, x := range tp.terms {
			x.stat.mergeAt, x.stat.mergeW = c.pass, x.weight*c.idf(x.stat)
		}
		for _, o := range seen {
			cd := &c.cands[o.slot]
			for _, y := range o.terms {
				if s := y.stat; s.mergeAt == c.pass {
					cd.add(s.mergeW*y.weight*c.idf(s), strings.IndexByte(s.term, ' ') < 0, s)
				}
			}
		}
	}
	na := c.topicNorm(tp)
	var best *topic
	var bestSim, bestRatio float64
	for _, o := range seen {
		if o.id == tp.sibling || tp.id == o.sibling {
			continue // they were one topic and were split apart
		}
		small, large := tp, o
		if small.size > large.size {
			small, large = large, small
		}
		absorb := c.cfg.AbsorbFactor > 0 && small.size <= absorbMaxSize && large.size >= absorbMinSize
		pair := large.size <= smallPairSize
		if (o.size < 2 || tp.size < 2) && !absorb && !pair {
			continue
		}
		cd := &c.cands[o.slot]
		dot, top, shared := cd.dot, cd.top, int(cd.shared)
		if dot == 0 {
			continue
		}
		sim := dot / (na * c.topicNorm(o))
		n := (tp.neffSum + o.neffSum) / float64(tp.size+o.size)
		bar := c.cfg.threshold(n) * c.cfg.MergeFactor
		if absorb && shared >= c.cfg.MinShared {
			bar = min(bar, c.cfg.threshold(small.neffSum/float64(small.size))*c.cfg.AbsorbFactor)
		}
		// As for a headline joining a topic (Config.SupportShare), the
		// similarity must not rest on one shared word: two storylines that
		// happened at one place ("SXSW") or to one company are not one.
		// Unless both are small and no other topic holds that word.
		support := c.cfg.SupportShare
		if pb := c.cfg.threshold(n) * smallPairFactor; pair && c.rareBridge(cd.topStat) && pb < bar {
			bar, support = pb, -1
		}
		if support > 0 && (dot-top)/(na*c.topicNorm(o)) < support*bar {
			continue
		}
		if r := sim / bar; sim >= bar && (r > bestRatio || r == bestRatio && o.id < best.id) {
			best, bestSim, bestRatio = o, sim, sim/bar
		}
	}
	return best, bestSim
}

// rareBridge reports whether a term that two small topics share may carry
// their merge alone (smallPairFactor): no third open topic holds it, and
// it is in at most one story in smallPairDocShare of all seen (at the
// start of a stream, before the IDF has seen enough stories to tell a rare
// word from a common one, every shared word looks rare).
func (c *Clusterer) rareBridge(s *termStat) bool {
	return len(s.post) == 2 && float64(s.df) <= float64(c.docs)*smallPairDocShare
}

// add adds one shared term's product p to a merge candidate's sums.
func (cd *candidate) add(p float64, word bool, s *termStat) {
	cd.dot += p
	if p > cd.top {
		cd.top, cd.topStat = p, s
	}
	if word {
		cd.shared++
	}
}

// topTerms returns the indexes of tp's n heaviest terms under the current IDF.
func (c *Clusterer) topTerms(tp *topic, n int) []int {
	scores := slices.Grow(c.scores[:0], len(tp.terms))[:len(tp.terms)]
	c.scores = scores
	for i, tt := range tp.terms {
		scores[i] = tt.weight * c.idf(tt.stat)
	}
	return topK(scores, n, func(i int) string { return tp.terms[i].stat.term })
}

// merge folds topic b into topic a: a keeps its ID, b is closed.
func (c *Clusterer) merge(a, b *topic) {
	n0 := len(a.terms)
	for _, bt := range b.terms {
		at := c.termOf(a, bt.stat, n0)
		a.setWeight(at, at.weight+bt.weight)
		for i := range bt.nForms() {
			at.mergeForm(*bt.formAt(i))
		}
		a.noteForms(at)
	}
	// Settled even when b brought no new term (join skips that case), so
	// that a topic loaded over the cap (from a State saved with a larger
	// MaxTopicTerms) is pruned here.
	c.settleTerms(a, n0)
	c.resum(a)
	a.size += b.size
	a.neffSum += b.neffSum
	a.suspect = a.suspect || b.suspect
	if b.first.Before(a.first) {
		a.first = b.first
	}
	if b.last.After(a.last) {
		a.last = b.last
	}
	a.kept = maxTime(a.kept, b.kept)
	b.dirty = false
	heap.Fix(&c.byLast, a.heapIdx)
	c.release(b)
	// The representative is whichever of the two is closer to the merged
	// centroid.
	if c.headSim(a, b.headTerms) > c.headSim(a, a.headTerms) {
		a.headID, a.headline, a.headTerms, a.headLang = b.headID, b.headline, b.headTerms, b.headLang
	}
	a.label = c.label(a)
}

// mergeForm adds the counts of f, a form of the same term in another
// topic (count > 0), to tt's forms.
func (tt *topicTerm) mergeForm(f termForm) {
	n := tt.nForms()
	for i := range n {
		if g := tt.formAt(i); g.text == f.text {
			g.count += f.count
			g.cased += f.cased
			g.lower += f.lower
			if g.casedText == 0 {
				g.casedText = f.casedText
			}
			return
		}
	}
	tt.appendForm(n, f)
}

// headSim is the cosine between a stored story vector and tp's centroid.
func (c *Clusterer) headSim(tp *topic, v []TermWeight) float64 {
	tn := c.topicNorm(tp)
	var dot, n float64
	for _, tw := range v {
		s := c.peekStat(tw.Term)
		if s == nil {
			continue
		}
		idf := c.idf(s)
		x := tw.Weight * idf
		n += x * x
		if tt := tp.find(tw.Term); tt != nil {
			dot += x * tt.weight * idf
		}
	}
	if n == 0 || tn == 0 {
		return 0
	}
	return dot / (math.Sqrt(n) * tn)
}

// topK returns the indexes of the n largest scores, largest first, ties
// broken by name. It is a partial selection: n is small, the list is not.
func topK(scores []float64, n int, name func(int) string) []int {
	better := func(a, b int) bool {
		if scores[a] != scores[b] {
			return scores[a] > scores[b]
		}
		return name(a) < name(b)
	}
	out := make([]int, 0, n+1)
	for i, s := range scores {
		if s <= 0 {
			continue
		}
		if len(out) == n && !better(i, out[n-1]) {
			continue
		}
		k := len(out)
		if k == n {
			k--
		} else {
			out = append(out, 0)
		}
		for k > 0 && better(i, out[k-1]) {
			out[k] = out[k-1]
			k--
		}
		out[k] = i
	}
	return out
}
