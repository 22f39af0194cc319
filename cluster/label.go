package cluster

import (
	"sort"
	"strings"
)

// label names a topic by its most distinctive terms: the heaviest centroid
// terms under the current IDF, shown in their usual spelling. A name bigram
// stands in for the single names it contains ("Marco Rubio", not
// "Marco Rubio Rubio"). Names come first, as in "Geneva talks".
func (c *Clusterer) label(tp *topic) string {
	type cand struct {
		term   string
		score  float64
		k      int
		bigram bool
	}
	// A bigram can stand in for two picked names, so look a little deeper
	// than LabelTerms.
	scores := make([]float64, len(tp.terms))
	for k := range tp.terms {
		scores[k] = tp.terms[k].weight * c.idf(tp.terms[k].stat)
	}
	var cands []cand
	for _, k := range topK(scores, 4*c.cfg.LabelTerms, func(i int) string { return tp.terms[i].stat.term }) {
		term := tp.terms[k].stat.term
		cands = append(cands, cand{term, scores[k], k, strings.IndexByte(term, ' ') >= 0})
	}
	var picked []cand
	covered := make(map[string]bool)
	for _, cd := range cands {
		if len(picked) == c.cfg.LabelTerms {
			break
		}
		if cd.bigram {
			parts := strings.SplitN(cd.term, " ", 2)
			if covered[parts[0]] && covered[parts[1]] {
				continue
			}
			// Replace the single names the bigram covers.
			kept := picked[:0]
			for _, p := range picked {
				if p.term != parts[0] && p.term != parts[1] {
					kept = append(kept, p)
				}
			}
			picked = append(kept, cd)
			covered[parts[0]], covered[parts[1]] = true, true
			continue
		}
		if covered[cd.term] {
			continue
		}
		covered[cd.term] = true
		picked = append(picked, cd)
	}
	words := make([]string, 0, len(picked))
	isName := func(cd cand) bool {
		f := bestForm(tp.terms[cd.k].forms, cd.term)
		return f != strings.ToLower(f)
	}
	// Stable: names first, then by weight.
	sort.SliceStable(picked, func(i, j int) bool { return isName(picked[i]) && !isName(picked[j]) })
	for _, cd := range picked {
		words = append(words, bestForm(tp.terms[cd.k].forms, cd.term))
	}
	return strings.Join(words, " ")
}
