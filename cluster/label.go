package cluster

import (
	"sort"
	"strings"
	"unicode"
)

// cand is a label candidate: a centroid term and its score.
type cand struct {
	term   string
	score  float64
	k      int
	bigram bool
}

// label names a topic by its most distinctive terms: the heaviest centroid
// terms under the current IDF, shown in their usual spelling. A name bigram
// stands in for the single names it contains ("Marco Rubio", not
// "Marco Rubio Rubio"). Names come first, as in "Geneva talks".
func (c *Clusterer) label(tp *topic) string {
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
		if covered[cd.term] || sameWord(cd.term, picked) {
			continue
		}
		covered[cd.term] = true
		picked = append(picked, cd)
	}
	words := make([]string, 0, len(picked))
	form := func(cd cand) string { return labelForm(tp.terms[cd.k].forms, cd.term, tp.headline) }
	isName := func(cd cand) bool {
		f := form(cd)
		return f != strings.ToLower(f)
	}
	// Stable: names first, then by weight.
	sort.SliceStable(picked, func(i, j int) bool { return isName(picked[i]) && !isName(picked[j]) })
	for _, cd := range picked {
		words = append(words, form(cd))
	}
	return strings.Join(words, " ")
}

// sameWord reports whether term is another form of a word already picked:
// Snowball leaves "Ukraine" and "Ukrainian" as "ukrain" and "ukrainian",
// and a label saying both says one thing twice.
func sameWord(term string, picked []cand) bool {
	for _, p := range picked {
		for _, part := range strings.Split(p.term, " ") {
			short, long := part, term
			if len(short) > len(long) {
				short, long = long, short
			}
			if len(short) >= 4 && strings.HasPrefix(long, short) {
				return true
			}
		}
	}
	return false
}

// labelForm is the spelling of a term in a label. Where the stories gave no
// evidence about its case (it only appeared in Title Case headlines, where
// every word is capitalized), the representative headline's own spelling is
// used, so that a label from such headlines reads "Aldmoor Airport" rather
// than showing a name in lower case.
func labelForm(forms []Form, term, headline string) string {
	f := bestForm(forms, term)
	if f != strings.ToLower(f) {
		return f
	}
	for _, fm := range forms {
		if fm.Text == f && (fm.Cased > 0 || fm.Lower > 0) {
			return f
		}
	}
	for _, w := range strings.FieldsFunc(headline, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '\''
	}) {
		if strings.EqualFold(w, f) {
			return w
		}
	}
	return f
}
