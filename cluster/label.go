package cluster

import (
	"strings"
	"unicode"
)

// cand is a label candidate: a centroid term and its index in tp.terms.
type cand struct {
	term string
	k    int
}

// label names a topic by its most distinctive terms: the heaviest centroid
// terms under the current IDF, shown in their usual spelling. A name bigram
// stands in for the single names it contains ("Marco Rubio", not
// "Marco Rubio Rubio"). Names come first, as in "Geneva talks".
func (c *Clusterer) label(tp *topic) string {
	var picked []cand
	covered := make(map[string]bool)
	// A bigram can stand in for two picked names, so look a little deeper
	// than LabelTerms.
	for _, k := range c.topTerms(tp, 4*c.cfg.LabelTerms) {
		if len(picked) == c.cfg.LabelTerms {
			break
		}
		cd := cand{tp.terms[k].stat.term, k}
		if first, second, bigram := strings.Cut(cd.term, " "); bigram {
			if covered[first] && covered[second] {
				continue
			}
			// Replace the single names the bigram covers.
			kept := picked[:0]
			for _, p := range picked {
				if p.term != first && p.term != second {
					kept = append(kept, p)
				}
			}
			picked = append(kept, cd)
			covered[first], covered[second] = true, true
			continue
		}
		if covered[cd.term] || sameWord(cd.term, picked) {
			continue
		}
		covered[cd.term] = true
		picked = append(picked, cd)
	}
	// Names first, otherwise in the order picked.
	var names, words []string
	for _, cd := range picked {
		tt := tp.terms[cd.k]
		if f := labelForm(tt.stat.forms(tt.forms), cd.term, tp.headline); f != strings.ToLower(f) {
			names = append(names, f)
		} else {
			words = append(words, f)
		}
	}
	return strings.Join(append(names, words...), " ")
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
