package cluster

import (
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// docVector is a story's IDF-free term vector: sublinear, title- and
// name-boosted term frequencies scaled to unit length. The IDF is applied at
// comparison time, so the same vector serves early and late in a stream.
type docVector struct {
	terms []string    // distinct terms, sorted
	u     []float64   // unit-length IDF-free weights, parallel to terms
	forms [][]surface // spellings seen, parallel to terms
	head  []bool      // the term occurs in the title or the link's slug, parallel to terms
	name  []bool      // the term was a proper name somewhere, parallel to terms
}

// surface is one spelling of a term in a story and how often it occurs
// there. The case folding and the test of its first letter are made here,
// in the analysis, which runs ahead of the clusterer on another core, and
// once per spelling rather than once per occurrence.
type surface struct {
	text, lower string
	cased       bool  // the capitalization is informative (see occurrence)
	upper       bool  // the first letter is upper or title case
	n           int32 // occurrences
}

// maxSurfaces is how many occurrences of a term per story count towards
// its forms: a term repeated all through an article says no more about
// its spelling than eight times.
const maxSurfaces = 8

// termAcc is what vectorize sums up for one term of a story.
type termAcc struct {
	raw         float64
	name, bigra bool
	head        bool
	nSurfaces   int32 // occurrences counted in forms, up to maxSurfaces
	forms       []surface
}

// addSurface counts one occurrence of a spelling in forms, which keep the
// order of their first occurrence (addForm relies on it).
func addSurface(forms []surface, text string, cased bool) []surface {
	for i := range forms {
		if forms[i].text == text && forms[i].cased == cased {
			forms[i].n++
			return forms
		}
	}
	r, _ := utf8.DecodeRuneInString(text)
	return append(forms, surface{text: text, lower: strings.ToLower(text), cased: cased, upper: unicode.IsUpper(r) || unicode.IsTitle(r), n: 1})
}

// vectorize makes a story's vector of its occurrences, with the scratch
// arrays of sc.
func vectorize(occ []occurrence, cfg *Config, sc *analysisCache) docVector {
	// The terms' sums in one array (at most one per occurrence, so it is
	// never reallocated), found by term.
	if sc.terms == nil {
		sc.terms = make(map[string]int)
	}
	m, accs := sc.terms, slices.Grow(sc.accs[:0], len(occ))
	clear(m)
	defer func() { sc.accs = accs[:0] }()
	nameW, bigramW := cfg.NameWeight, cfg.BigramWeight
	if !hasBody(occ) {
		nameW = min(cfg.HeadlineNameWeight, cfg.NameWeight)
		bigramW *= nameW / cfg.NameWeight
	}
	for _, o := range occ {
		k, ok := m[o.term]
		if !ok {
			k = len(accs)
			accs = append(accs, termAcc{})
			m[o.term] = k
		}
		a := &accs[k]
		// A slug's words say what the story is about, like the headline's,
		// and count as body words: weighed twice, as an earlier version
		// did, they earned nothing measurable (docs/clustering.md).
		a.head = a.head || o.title || o.slug
		if o.title {
			a.raw += cfg.TitleWeight
		} else {
			a.raw++
		}
		a.name = a.name || o.name
		a.bigra = a.bigra || o.bigram
		if a.nSurfaces < maxSurfaces {
			a.nSurfaces++
			a.forms = addSurface(a.forms, o.surface, o.cased)
		}
	}
	v := docVector{terms: make([]string, 0, len(m))}
	for t := range m {
		v.terms = append(v.terms, t)
	}
	sort.Strings(v.terms)
	v.u = make([]float64, len(v.terms))
	v.forms = make([][]surface, len(v.terms))
	v.head = make([]bool, len(v.terms))
	v.name = make([]bool, len(v.terms))
	var norm float64
	for i, t := range v.terms {
		a := &accs[m[t]]
		tf := a.raw
		if tf >= 1 {
			tf = 1 + math.Log(tf)
		}
		if a.name {
			tf *= nameW
		}
		if a.bigra {
			tf *= bigramW
		}
		v.u[i] = tf
		v.forms[i] = a.forms
		v.head[i] = a.head
		v.name[i] = a.name
		norm += tf * tf
	}
	toUnit(v.u, norm)
	return v
}

// hasBody reports whether a story has words besides its headline and its
// link's slug.
func hasBody(occ []occurrence) bool {
	for _, o := range occ {
		if !o.title && !o.slug {
			return true
		}
	}
	return false
}

// toUnit scales w to unit length, given the sum of its squares.
func toUnit(w []float64, sumSq float64) {
	if sumSq > 0 {
		n := math.Sqrt(sumSq)
		for i := range w {
			w[i] /= n
		}
	}
}

// termForm is a Form in a centroid, its spellings numbered in the term's
// list (termStat.spellings): a large topic's centroid holds hundreds of
// forms, and most words have the same one or two spellings in every topic.
type termForm struct {
	text      uint32 // index in the spellings
	casedText uint32 // index + 1, 0 for none
	count     int32
	cased     int32
	lower     int32
}

// findSpelling returns the number of a spelling of s's term, or -1 when
// the list lacks it.
func (s *termStat) findSpelling(text string) int {
	for i, t := range s.spellings {
		if t == text {
			return i
		}
	}
	return -1
}

// spelling returns the number of a spelling of s's term, adding it to the
// list when new.
func (s *termStat) spelling(text string) uint32 {
	if i := s.findSpelling(text); i >= 0 {
		return uint32(i)
	}
	// A copy: text may be a slice of a story's whole text.
	s.spellings = append(s.spellings, strings.Clone(text))
	return uint32(len(s.spellings) - 1)
}

// termForm numbers the spellings of f, a form of s's term.
func (s *termStat) termForm(f Form) termForm {
	tf := termForm{text: s.spelling(f.Text), count: f.Count, cased: f.Cased, lower: f.Lower}
	if f.CasedText != "" {
		tf.casedText = s.spelling(f.CasedText) + 1
	}
	return tf
}

// forms returns tt's forms with their spellings (nil when it has none).
func (tt *topicTerm) forms() []Form {
	n := tt.nForms()
	if n == 0 {
		return nil
	}
	s := tt.stat
	out := make([]Form, n)
	for i := range out {
		tf := tt.formAt(i)
		out[i] = Form{Text: s.spellings[tf.text], Count: tf.count, Cased: tf.cased, Lower: tf.lower}
		if tf.casedText > 0 {
			out[i].CasedText = s.spellings[tf.casedText-1]
		}
	}
	return out
}

// maxForms caps a centroid term's forms: a term rarely has more than a
// few spellings worth showing.
const maxForms = 4

// nForms returns how many forms tt has.
func (tt *topicTerm) nForms() int {
	if tt.form.count == 0 {
		return 0
	}
	n := 1
	if tt.more != nil {
		for _, f := range tt.more {
			if f.count == 0 {
				break
			}
			n++
		}
	}
	return n
}

// formAt returns tt's form i (i < nForms), in place.
func (tt *topicTerm) formAt(i int) *termForm {
	if i == 0 {
		return &tt.form
	}
	return &tt.more[i-1]
}

// appendForm adds f (count > 0) as the form after the n that tt has,
// unless it has maxForms already.
func (tt *topicTerm) appendForm(n int, f termForm) {
	switch {
	case n == 0:
		tt.form = f
	case n < maxForms:
		if tt.more == nil {
			tt.more = new([maxForms - 1]termForm)
		}
		tt.more[n-1] = f
	}
}

// caseCounts sums the capitalized and the lower-case occurrences of tt's
// forms where case is informative.
func (tt *topicTerm) caseCounts() (cased, lower int64) {
	for i := range tt.nForms() {
		f := tt.formAt(i)
		cased += int64(f.cased)
		lower += int64(f.lower)
	}
	return cased, lower
}

// addForm records the occurrences of one spelling of tt's term in its
// forms (up to maxForms). A story's spellings are added in the order of
// their first occurrence, so the list is the same as if each occurrence
// were added on its own.
func (tt *topicTerm) addForm(sf surface) {
	s := tt.stat
	lower := sf.lower
	n := tt.nForms()
	k := -1
	if low := s.findSpelling(lower); low >= 0 {
		for i := range n {
			if tt.formAt(i).text == uint32(low) {
				k = i
				break
			}
		}
	}
	if k < 0 {
		if n >= maxForms {
			return // a spelling no form keeps is not listed
		}
		tt.appendForm(n, termForm{text: s.spelling(lower), count: sf.n})
		k = n
	} else {
		tt.formAt(k).count += sf.n
	}
	f := tt.formAt(k)
	if sf.cased {
		if sf.upper {
			f.cased += sf.n
			if f.casedText == 0 {
				f.casedText = s.spelling(sf.text) + 1
			}
		} else {
			f.lower += sf.n
		}
	}
}

// bestForm returns the spelling to show for a term: its most frequent
// case-folded spelling, capitalized when it was mostly capitalized where case
// is informative.
func bestForm(forms []Form, term string) string {
	if len(forms) == 0 {
		return term
	}
	b := 0
	for i := 1; i < len(forms); i++ {
		if forms[i].Count > forms[b].Count || (forms[i].Count == forms[b].Count && forms[i].Text < forms[b].Text) {
			b = i
		}
	}
	f := forms[b]
	if f.Cased > f.Lower && f.CasedText != "" {
		return f.CasedText
	}
	return f.Text
}
