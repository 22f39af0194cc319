package cluster

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// AnalyzerVersion changes whenever the analysis of a story changes
// (tokenizer, stopwords, stemming, names, link slugs): statistics and
// centroids stored by another version count terms this one would not
// produce, and taking a story out (Clusterer.Forget) would subtract the
// wrong ones. A store records it and asks for a recluster when it differs.
// Version 2 reads link slugs; version 3 reads each country's names and
// demonyms as one term; version 4 cuts Chinese and Japanese runs into
// overlapping pairs of characters.
const AnalyzerVersion = 4

// occurrence is one content-word occurrence after stopwords and stemming.
type occurrence struct {
	term    string // stem, or "stem1 stem2" for a name bigram
	surface string // as written, for labels
	title   bool   // found in the title
	name    bool   // proper name (capitalized where capitals mean something)
	cased   bool   // the surface's capitalization is informative (not sentence-initial, not a title-case headline)
	bigram  bool
	slug    bool // found in the link's slug
}

// analysisCache remembers stems: Snowball is the costliest step of
// analysis, and news reuses a small vocabulary. It is bounded by emptying
// it when full; stems are a pure function of the word and its language, so
// results do not depend on it. Keying by language too keeps it useful on a
// stream that mixes languages.
//
// It also keeps the analysis's scratch arrays (tokens, occurrences, flags,
// the per-term sums), which live only while one story is analyzed: made
// anew for every story, they were a quarter of the clustering's garbage.
type analysisCache struct {
	stems map[stemKey]string
	toks  []token
	occ   []occurrence
	flags []bool
	terms map[string]int
	accs  []termAcc
}

type stemKey struct {
	l    *language
	word string
}

const maxStemCache = 1 << 16

func (sc *analysisCache) stem(l *language, t *token) string {
	if t.number {
		return stemToken(l, t) // a number is its own term: nothing to save
	}
	if sc.stems == nil || len(sc.stems) >= maxStemCache {
		sc.stems = make(map[stemKey]string)
	}
	k := stemKey{l, t.lower}
	s, ok := sc.stems[k]
	if !ok {
		s = stemToken(l, t)
		sc.stems[k] = s
	}
	return s
}

// analyzeDoc is a story's IDF-free vector, analyzed with the clusterer's
// stem cache and weights.
func (c *Clusterer) analyzeDoc(d Document) docVector {
	return vectorize(analyzeCached(d.Title, d.Text, d.Link, d.Language, &c.stems), &c.cfg, &c.stems)
}

// Analyzer analyzes stories for a Clusterer of the same Config, apart from
// it: a story's analysis depends on nothing the clusterer learns, so a
// caller may analyze the next stories on another goroutine while the
// clusterer assigns this one (AddAnalyzed). An Analyzer has a cache of its
// own and is not safe for concurrent use: use one per goroutine.
type Analyzer struct {
	cfg   Config
	stems analysisCache
}

// NewAnalyzer returns an Analyzer for clusterers with configuration cfg.
func NewAnalyzer(cfg Config) *Analyzer { return &Analyzer{cfg: cfg.withDefaults()} }

// Analyzed is a story with its analysis, ready for AddAnalyzed.
type Analyzed struct {
	doc Document
	vec docVector
	cfg *Config // the analyzer's
}

// Analyze analyzes a story.
func (a *Analyzer) Analyze(d Document) Analyzed {
	return Analyzed{doc: d, vec: vectorize(analyzeCached(d.Title, d.Text, d.Link, d.Language, &a.stems), &a.cfg, &a.stems), cfg: &a.cfg}
}

// analyzeCached is analyze with the stems and scratch arrays of sc,
// reading the words of the link's slug (see linkSlug) too, marked as slug
// words. The occurrences it returns are sc's, valid until its next use.
func analyzeCached(title, text, link, lang string, sc *analysisCache) []occurrence {
	l := lookupLanguage(lang)
	occ := analyzeField(sc.occ[:0], l, title, true, sc)
	occ = analyzeField(occ, l, text, false, sc)
	if slug := linkSlug(link); slug != "" {
		n := len(occ)
		occ = analyzeField(occ, l, slug, false, sc)
		// A slug is lower case by convention: its words say nothing about
		// how a name is capitalized.
		for i := n; i < len(occ); i++ {
			occ[i].cased = false
			occ[i].slug = true
		}
	}
	sc.occ = occ
	return occ
}

func analyzeField(occ []occurrence, l *language, s string, isTitle bool, sc *analysisCache) []occurrence {
	toks := tokenizeInto(sc.toks[:0], s)
	sc.toks = toks
	if len(toks) == 0 {
		return occ
	}
	flags := slices.Grow(sc.flags[:0], 2*len(toks))[:2*len(toks)]
	clear(flags)
	sc.flags = flags
	// An occurrence per token at most, and a few names of two words.
	occ = slices.Grow(occ, len(toks)+len(toks)/8)
	stop, names := flags[:len(toks)], flags[len(toks):]
	for i := range toks {
		stop[i] = isStop(l, &toks[i])
	}
	// In a Title Case or ALL CAPS headline every word is capitalized, so
	// capitals say nothing about names there (except acronyms inside a
	// Title Case headline). Body text is always read as sentence case.
	titleCase, shouting := false, false
	if isTitle {
		titleCase, shouting = headlineCase(toks, stop)
	}
	if !isTitle && isShouting(toks) {
		shouting = true
	}
	for i := range toks {
		t := &toks[i]
		if stop[i] || t.number || !t.cap || shouting {
			continue
		}
		switch {
		case titleCase:
			names[i] = t.allCaps
		case !t.sentStart:
			names[i] = true
		default:
			// A sentence-initial capital is a name when a name follows it
			// directly: "Marco Rubio said" starts with a name, "Police said"
			// does not.
			if i+1 < len(toks) && toks[i+1].joined && toks[i+1].cap && !stop[i+1] && !toks[i+1].number {
				names[i] = true
			}
		}
	}
	prevTerm, prevSurface := "", ""
	for i := 0; i < len(toks); i++ {
		t := &toks[i]
		term, surface, last := "", t.text, i
		if code, n := countryAt(toks, i); n > 0 {
			// A country's names and demonyms are one term (see countries),
			// a name of several words too.
			// As written, up to the last word, which is taken cleaned
			// like any word ("Britain's" is "Britain").
			last = i + n - 1
			term, surface = countryTerm(code), s[t.start:toks[last].start]+toks[last].text
		} else if stop[i] {
			prevTerm = ""
			continue
		} else if term = sc.stem(l, t); term == "" {
			prevTerm = ""
			continue
		}
		cased := !shouting && !titleCase && !t.sentStart
		occ = append(occ, occurrence{term: term, surface: surface, title: isTitle, name: names[i], cased: cased})
		if names[i] && prevTerm != "" && t.joined {
			occ = append(occ, occurrence{
				term: prevTerm + " " + term, surface: prevSurface + " " + surface,
				title: isTitle, name: true, cased: true, bigram: true,
			})
		}
		if names[last] {
			prevTerm, prevSurface = term, surface
		} else {
			prevTerm = ""
		}
		i = last
	}
	return occ
}

// isStop reports whether a token carries no topical content: stopwords and
// one- or two-digit numbers (counts, days, scores are everywhere). Acronyms
// are never stopwords, so "US" survives while "us" does not.
func isStop(l *language, t *token) bool {
	if t.number {
		return !strings.Contains(t.text, ".") && len(t.text) < 3
	}
	if t.allCaps && !t.sentStart {
		return false
	}
	if utf8.RuneCountInString(t.lower) < 2 || kanaEdge(t.text) {
		// One letter says nothing; nor does a pair of Japanese
		// characters that starts or ends in kana, mostly a particle or
		// an inflection ("を発", "新し").
		return true
	}
	return l.stop(t.lower)
}

// stemToken returns the term for a token: its Snowball stem, or the
// case-folded word when the language has no stemmer. Numbers stay as they
// are ("7.3", "2012").
func stemToken(l *language, t *token) string {
	if t.number || l.stem == nil {
		return t.lower
	}
	s := l.stem(t.lower, true)
	if s == "" {
		return t.lower
	}
	return s
}

// headlineCase classifies a headline: Title Case when nearly all its content
// words of four letters or more are capitalized, shouting when all are upper
// case.
func headlineCase(toks []token, stop []bool) (titleCase, shouting bool) {
	words, caps, upper := 0, 0, 0
	for i := range toks {
		t := &toks[i]
		if stop[i] || t.number || utf8.RuneCountInString(t.text) < 4 {
			continue
		}
		words++
		if t.cap {
			caps++
		}
		if t.allCaps {
			upper++
		}
	}
	if words >= 2 && upper*10 >= words*8 {
		return false, true
	}
	return words >= 2 && caps*10 >= words*8, false
}

// isShouting reports a body written in capitals, where case means nothing.
func isShouting(toks []token) bool {
	letters, upper := 0, 0
	for i := range toks {
		if toks[i].number {
			continue
		}
		letters++
		if toks[i].allCaps {
			upper++
		}
	}
	return letters >= 4 && upper*10 >= letters*8
}
