package cluster

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// cand is a term picked for a label made of terms: a single term, or a
// name made of bigrams that run on from one another. words are its
// words, as terms, in order; ks the indexes in tp.terms of the term or
// of the bigrams, in order.
type cand struct {
	words []string
	ks    []int
}

// label names a topic: by a phrase of its representative headline
// (phrase), or, when the headline holds none of the topic's heaviest
// terms (a columnist's name, a dateline), by its most distinctive terms
// (termLabel).
func (c *Clusterer) label(tp *topic) string {
	if p := c.phrase(tp); p != "" {
		return p
	}
	return c.termLabel(tp)
}

// Phrase names: a span of the representative headline of 2 to
// maxPhraseWords words, scored by the sum over its content words of their
// weight in the centroid under the current IDF (relative to the heaviest
// term's), less phraseWordCost for each word. The centroid counts a word
// once per story that has it (three times in a headline), so the words
// that many of the storyline's headlines share, and that few other
// storylines use, weigh most: "Geneva talks", not "resume". The cost per
// word keeps a phrase to the words that carry it.
const (
	maxPhraseWords = 5
	phraseWordCost = 0.3
	phraseTopTerms = 3
	nounShare      = 0.6
)

// phrase returns the best-scoring phrase of tp's representative headline,
// as written there (an initial lower-case letter raised), or "" when the
// headline says little about its storyline: no span of two words or more
// scores above zero and holds one of the topic's phraseTopTerms heaviest
// terms, and none of them is a name in the headline. A span runs between
// punctuation marks, starts and ends with a content word, never ends
// inside a hyphenated word, and starts either where a clause does, after
// a stopword or with a name: a lower-case word right after a content word
// is most often a headline's verb ("Kremlin dismisses ..."), and a name
// should not be verb-led.
func (c *Clusterer) phrase(tp *topic) string {
	h := tp.headline
	if h == "" || len(tp.terms) == 0 {
		return ""
	}
	toks := tokenize(h)
	l := lookupLanguage(tp.headLang)
	stop := make([]bool, len(toks))
	for i := range toks {
		stop[i] = isStop(l, &toks[i])
	}
	titleCase, shouting := headlineCase(toks, stop)
	// A country's name is its term (see countries), and one word of a
	// phrase even where it is two ("New Zealand": no name ends inside it)
	// or would be a stopword ("US" opening a headline).
	country := make([]string, 0, len(toks))
	merged, mergedStop := make([]token, 0, len(toks)), make([]bool, 0, len(toks))
	for i := 0; i < len(toks); {
		code, n := countryAt(toks, i)
		if n == 0 {
			merged, mergedStop, country = append(merged, toks[i]), append(mergedStop, stop[i]), append(country, "")
			i++
			continue
		}
		t := toks[i]
		if n > 1 {
			t.end = toks[i+n-1].end
			t.text = h[t.start:t.end]
			t.lower = strings.ToLower(t.text)
			t.allCaps = t.allCaps && toks[i+n-1].allCaps
		}
		merged, mergedStop, country = append(merged, t), append(mergedStop, false), append(country, countryTerm(code))
		i += n
	}
	toks, stop = merged, mergedStop
	tops := c.topTerms(tp, phraseTopTerms)
	if len(tops) == 0 {
		return ""
	}
	top := tp.terms[tops[0]].weight * c.idf(tp.terms[tops[0]].stat)
	if top <= 0 {
		return ""
	}
	heavy := make(map[*termStat]bool, len(tops))
	for _, k := range tops {
		heavy[tp.terms[k].stat] = true
	}
	score := make([]float64, len(toks))
	terms := make([]*topicTerm, len(toks))
	name, isTop := make([]bool, len(toks)), make([]bool, len(toks))
	for i := range toks {
		t := &toks[i]
		if stop[i] {
			continue
		}
		term := country[i]
		if term == "" {
			term = c.stems.stem(l, t)
		}
		tt := tp.find(term)
		if tt == nil {
			continue
		}
		terms[i] = tt
		score[i] = tt.weight * c.idf(tt.stat) / top
		isTop[i] = heavy[tt.stat]
		if titleCase || shouting {
			// Lowered only on evidence: written in lower case where case
			// is informative more often than capitalized.
			name[i] = !tt.isLower()
		} else {
			name[i] = t.cap && !t.sentStart
		}
		if isCJK(firstRune(t.text)) && tp.size > 1 {
			// Without capitals or spaces, what marks a name in a Chinese
			// or Japanese headline is the pairs its storyline shares:
			// a phrase starts and ends on those, anywhere in a run, and
			// the others only count against it.
			name[i] = true
			if score[i] < nounShare {
				score[i] = 0
			}
		}
	}
	// between is the text between toks[i] and toks[i+1]: none for the
	// overlapping pairs of a Chinese or Japanese run (see tokenizeChunk).
	between := func(i int) string {
		if toks[i].end >= toks[i+1].start {
			return ""
		}
		return h[toks[i].end:toks[i+1].start]
	}
	hyphen := func(i int) bool { // toks[i] and toks[i+1] are one hyphenated word
		if i+1 >= len(toks) {
			return false
		}
		r, n := utf8.DecodeRuneInString(between(i))
		return n > 0 && n == toks[i+1].start-toks[i].end && isHyphen(r)
	}
	// linked reports whether toks[i] and toks[i+1] may be in one phrase:
	// only spaces or a hyphen between them, and no sentence break. A
	// comma, a quotation mark or a colon ends a phrase, so that a name
	// neither lists ("American Airlines, JetBlue") nor leaves a quotation
	// half open ("Titanfall' to fire up Xbox").
	linked := func(i int) bool {
		if i+1 >= len(toks) || toks[i+1].sentStart {
			return false
		}
		return hyphen(i) || strings.TrimSpace(between(i)) == ""
	}
	// inName reports whether toks[i] and toks[i+1] are words of one name,
	// so that a phrase neither ends at the one nor starts at the other:
	// the two sides of an abbreviation's dot, which the tokenizer joined
	// ("Mt. Gox", not "vs. privacy"), or, in a sentence-case headline, a
	// capitalized word and the capitalized stopword that ends its name
	// ("Doctor Who", "Xbox One").
	inName := func(i int) bool {
		if i+1 >= len(toks) || !toks[i].cap || !toks[i+1].cap || toks[i+1].sentStart {
			return false
		}
		if strings.TrimSpace(between(i)) == "." {
			return toks[i+1].joined
		}
		if titleCase || shouting || !linked(i) || hyphen(i) || stop[i] || !stop[i+1] {
			return false
		}
		return i+2 >= len(toks) || !linked(i+1) || !toks[i+2].cap
	}
	// verb[i]: toks[i] is most likely the verb of a clause that opens
	// with its subject ("Kremlin dismisses ...", "Aldmoor Airport adds
	// ...", "Geneva talks resume ..."): the first lower-case content word
	// directly after the words that open the clause, capitalized or heavy
	// ones. A heavy word weighs nounShare of the heaviest term or more: a
	// verb varies from outlet to outlet, while a word most of the
	// storyline's headlines share ("talks" after "Geneva") is part of its
	// name. In a storyline of one story nothing is heavy: nothing tells a
	// verb from a noun there, and the name keeps to one side of the first
	// lower-case word after the subject. A phrase does not cross from the
	// subject into a verb.
	weighty := func(k int) bool { return tp.size > 1 && score[k] >= nounShare }
	verb := make([]bool, len(toks))
	for i := 0; i < len(toks); {
		k := i
		for k < len(toks) && (k == i || linked(k-1)) && !stop[k] &&
			(capital(&toks[k], name[k], titleCase || shouting) || k > i && weighty(k)) {
			k++
		}
		if k > i && k < len(toks) && linked(k-1) && !stop[k] && !hyphen(k-1) &&
			!capital(&toks[k], name[k], titleCase || shouting) && !weighty(k) {
			verb[k] = true
		}
		// On to the next clause.
		for i = max(k, i+1); i < len(toks) && linked(i-1); i++ {
		}
	}
	// The best span, first among those that stop before a verb; a
	// headline that has none (its subject is one word, or what looks like
	// a verb is a noun: "European shares close mixed", "Bond default") is
	// named by a span that runs on past it; and one whose spans hold none
	// of the heaviest terms, by its heaviest name alone ("Herbalife",
	// "Titanfall"). Any of them is a phrase of the headline, which the
	// storyline's terms in a row are not.
	for _, acrossVerbs := range []bool{false, true} {
		if i, j := bestSpan(toks, stop, score, name, isTop, verb, acrossVerbs, linked, hyphen, inName); i >= 0 {
			return phraseText(h, toks[i:j+1], name[i:j+1], titleCase || shouting)
		}
	}
	// A name written with a capital inside a sentence is one on better
	// evidence than a headline's first word ("Addicted to 'Titanfall'").
	k, midK := -1, false
	for i := range toks {
		if !isTop[i] || !name[i] || hyphen(i) || i > 0 && hyphen(i-1) {
			continue
		}
		mid := toks[i].cap && !toks[i].sentStart
		if k < 0 || mid && !midK || mid == midK && score[i] > score[k] {
			k, midK = i, mid
		}
	}
	switch {
	case k < 0:
		return ""
	case shouting:
		// Its usual spelling, raised as a name is.
		f := labelForm(terms[k].forms(), terms[k].stat.term, "")
		r, n := utf8.DecodeRuneInString(f)
		return string(unicode.ToTitle(r)) + f[n:]
	}
	return phraseText(h, toks[k:k+1], name[k:k+1], titleCase)
}

// bestSpan returns the first and last token of the best-scoring phrase
// (see phrase), or -1: a span of 2 to maxPhraseWords words that starts
// where a phrase may start, runs between punctuation marks, ends on a
// content word (or a stopword that ends a name: "Doctor Who") and holds
// one of the heaviest terms, neither starting nor ending inside a name.
// Unless acrossVerbs, it stops before a verb.
func bestSpan(toks []token, stop []bool, score []float64, name, isTop, verb []bool, acrossVerbs bool,
	linked, hyphen, inName func(int) bool) (int, int) {
	bestI, bestJ, best := -1, -1, 0.0
	for i := range toks {
		if stop[i] || score[i] == 0 {
			continue
		}
		clause := i == 0 || !linked(i-1)
		// After a stopword a phrase may start ("the Tidewater Glide"),
		// except after "to", where a lower-case word is most often a verb
		// ("to fix IE").
		if !clause && !name[i] && (!stop[i-1] || toks[i-1].lower == "to") {
			continue
		}
		if i > 0 && (!clause && hyphen(i-1) || inName(i-1)) {
			continue
		}
		sum, holdsTop, halves := 0.0, false, 0
		for j := i; j < len(toks); j++ {
			if j > i && (!linked(j-1) || verb[j] && !acrossVerbs) {
				break
			}
			switch {
			case j > i && toks[j-1].end > toks[j].start:
				// A pair overlapping the one before adds one character:
				// half a word (two characters are a word, about).
				halves++
			case j == i || !hyphen(j-1):
				// The parts of a hyphenated word are one word; a country
				// named in several ("South Sudan") is as many.
				halves += 2 * (1 + strings.Count(toks[j].text, " "))
			}
			words := (halves + 1) / 2
			if words > maxPhraseWords {
				break
			}
			sum += score[j] - phraseWordCost
			holdsTop = holdsTop || isTop[j]
			nameEnd := j > i && stop[j] && inName(j-1) // "Doctor Who"
			if words < 2 || (stop[j] || score[j] == 0) && !nameEnd || hyphen(j) || inName(j) || !holdsTop {
				continue
			}
			if acrossVerbs && j > i && !name[j] && stop[j-1] && toks[j-1].lower == "to" {
				continue // "game plan to win": most often a verb
			}
			if sum > best+1e-9 {
				bestI, bestJ, best = i, j, sum
			}
		}
	}
	return bestI, bestJ
}

// phraseText cuts a phrase from the headline h as written: from its first
// word's text (without an elided article) to its last word's (without a
// possessive "'s"). In a Title Case or shouting headline the words that are
// not names are lowered, since their capitals say nothing. The first letter
// is raised: the phrase is a name.
func phraseText(h string, toks []token, name []bool, uninformative bool) string {
	first, last := toks[0], toks[len(toks)-1]
	start, end := first.start, last.end
	if from, _, ok := findText(h[first.start:first.end], first.text); ok {
		start = first.start + from
	}
	if _, to, ok := findText(h[last.start:last.end], last.text); ok {
		end = last.start + to
	}
	var b strings.Builder
	pos := start
	for i, t := range toks {
		b.WriteString(h[pos:max(pos, t.start)])
		ts, te := max(pos, t.start), min(end, t.end)
		word := h[ts:te]
		if uninformative && !name[i] && !t.allCaps {
			word = strings.ToLower(word)
		}
		b.WriteString(word)
		pos = te
	}
	s0, e0 := widenHan(h, start, end)
	out := h[s0:start] + b.String() + h[end:e0]
	r, n := utf8.DecodeRuneInString(out)
	if first := out[:len(out)-len(strings.TrimLeftFunc(out, isWordRune))]; strings.ContainsFunc(first[n:], unicode.IsUpper) {
		return out // spelled with a capital inside: "iPhone", "eBay"
	}
	return string(unicode.ToTitle(r)) + out[n:]
}

// maxWidened is the most characters a phrase widened by widenHan may
// have: a clause longer than that is more than a name.
const maxWidened = 20

// widenHan moves a phrase's edges (byte offsets in h) that fall inside a
// run of Chinese characters out to the run's edges. Chinese writes no
// space between words and its terms are character pairs, so the heaviest
// span could end one character short of a word ("发生强" of 发生强震,
// "会议在首" of 会议在首尔举行); the run, a clause between punctuation,
// kana or Latin text, never cuts one. Japanese kana are word edges
// already and are not crossed, and neither is a run's edge that touches a
// digit or another script's letter ("2026年冬奥会"), which may be inside
// a word; but a name ending in a number takes the unit or counter that
// follows it (震度6強, 20兆円規模). A phrase that would grow past
// maxWidened characters stays as it was.
func widenHan(h string, start, end int) (int, int) {
	s, e := start, end
	if r, _ := utf8.DecodeRuneInString(h[s:]); unicode.Is(unicode.Han, r) {
		for s > 0 {
			r, n := utf8.DecodeLastRuneInString(h[:s])
			if !inHanRun(r) {
				if isWordRune(r) && !isCJK(r) {
					s = start // "2026年冬奥会": the run's edge is inside a word
				}
				break
			}
			s -= n
		}
	}
	// A number is followed by its unit or counter: 震度6強, 20兆円規模.
	if r := lastRuneBefore(h, e); unicode.Is(unicode.Han, r) || unicode.IsDigit(r) && startsHanRun(h[e:]) {
		for e < len(h) {
			r, n := utf8.DecodeRuneInString(h[e:])
			if !inHanRun(r) {
				if isWordRune(r) && !isCJK(r) {
					e = end
				}
				break
			}
			e += n
		}
	}
	if utf8.RuneCountInString(h[s:e]) > maxWidened {
		return start, end
	}
	return s, e
}

// startsHanRun reports whether s starts with a Chinese character.
func startsHanRun(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.Is(unicode.Han, r)
}

// inHanRun reports whether r continues a run of Chinese characters: a
// character, or a mark on one (a variation selector picks a glyph).
func inHanRun(r rune) bool { return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Mn, r) }

// lastRuneBefore is the last character before byte offset i of h that is
// not a mark.
func lastRuneBefore(h string, i int) rune {
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(h[:i])
		if !unicode.Is(unicode.Mn, r) {
			return r
		}
		i -= n
	}
	return utf8.RuneError
}

// findText finds a token's text in the word as written, whose apostrophes
// may be other characters than the token's ("O’Brien’s" for "O'Brien"),
// and returns its byte span there.
func findText(raw, text string) (from, to int, ok bool) {
	for from = 0; from < len(raw); {
		i, j := from, 0
		for i < len(raw) && j < len(text) {
			r, n := utf8.DecodeRuneInString(raw[i:])
			q, m := utf8.DecodeRuneInString(text[j:])
			if r != q && !(isApostrophe(r) && isApostrophe(q)) {
				break
			}
			i, j = i+n, j+m
		}
		if j == len(text) {
			return from, i, true
		}
		_, n := utf8.DecodeRuneInString(raw[from:])
		from += n
	}
	return 0, 0, false
}

// termLabel names a topic by its most distinctive terms: the heaviest
// centroid terms under the current IDF, shown in their usual spelling. A
// name bigram stands in for the single names it contains ("Marco Rubio",
// not "Marco Rubio Rubio"), and bigrams that run on from one another make
// one name ("Hennepin County" and "County Medical": "Hennepin County
// Medical", not "Hennepin County County Medical"). Names come first.
func (c *Clusterer) termLabel(tp *topic) string {
	var picked []cand
	covered := make(map[string]bool) // the words of picked terms and names
	// A bigram can stand in for two picked names, so look a little deeper
	// than LabelTerms.
	terms := 0 // picked, a bigram run on counting as one more
	for _, k := range c.topTerms(tp, 4*c.cfg.LabelTerms) {
		if terms == c.cfg.LabelTerms {
			break
		}
		term := tp.terms[k].stat.term
		first, second, bigram := strings.Cut(term, " ")
		if !bigram {
			if !covered[term] && !sameWord(term, picked) {
				covered[term] = true
				picked = append(picked, cand{words: []string{term}, ks: []int{k}})
				terms++
			}
			continue
		}
		if covered[first] && covered[second] || inName(picked, first, second) && nameEndingAt(picked, first, second) < 0 {
			// It says nothing new, or it would repeat a word in the
			// middle of a name.
			continue
		}
		// Replace the single terms the bigram covers, then run a name on
		// or start one.
		picked = slices.DeleteFunc(picked, func(p cand) bool {
			replaced := len(p.words) == 1 && (p.words[0] == first || p.words[0] == second)
			if replaced {
				terms--
			}
			return replaced
		})
		terms++
		switch i := nameEndingAt(picked, first, second); {
		case i < 0:
			picked = append(picked, cand{words: []string{first, second}, ks: []int{k}})
		case picked[i].words[len(picked[i].words)-1] == first:
			picked[i].words, picked[i].ks = append(picked[i].words, second), append(picked[i].ks, k)
		default:
			picked[i].words, picked[i].ks = append([]string{first}, picked[i].words...), append([]int{k}, picked[i].ks...)
		}
		covered[first], covered[second] = true, true
	}
	// Names first, otherwise in the order picked.
	var names, words []string
	for _, cd := range picked {
		f := cd.text(tp)
		if f != strings.ToLower(f) {
			names = append(names, f)
		} else {
			words = append(words, f)
		}
	}
	return strings.Join(append(names, words...), " ")
}

// inName reports whether either word is in a name (a bigram or a run of
// them) picked for a label.
func inName(picked []cand, a, b string) bool {
	for _, p := range picked {
		if len(p.words) > 1 && (slices.Contains(p.words, a) || slices.Contains(p.words, b)) {
			return true
		}
	}
	return false
}

// nameEndingAt returns the index of the picked name that the bigram (a, b)
// runs on from: one that ends with a or starts with b, or -1. A name does
// not run on through a country, whose spelling may be several words.
func nameEndingAt(picked []cand, a, b string) int {
	for i, p := range picked {
		n := len(p.words)
		if n < 2 {
			continue
		}
		if p.words[n-1] == a && !isCountryTerm(a) && !slices.Contains(p.words, b) ||
			p.words[0] == b && !isCountryTerm(b) && !slices.Contains(p.words, a) {
			return i
		}
	}
	return -1
}

// text is how a label shows a picked term: its usual spelling, and for a
// run of bigrams the first one's spelling and, of each next, what follows
// the word it shares with the one before (one word, which is not a
// country: see nameEndingAt).
func (cd cand) text(tp *topic) string {
	form := func(k int) string {
		tt := tp.terms[k]
		return labelForm(tt.forms(), tt.stat.term, tp.headline)
	}
	s := form(cd.ks[0])
	for _, k := range cd.ks[1:] {
		if _, rest, ok := strings.Cut(form(k), " "); ok {
			s += " " + rest
		}
	}
	return s
}

// sameWord reports whether term is another form of a word already picked:
// Snowball leaves "Ukraine" and "Ukrainian" as "ukrain" and "ukrainian",
// and a label saying both says one thing twice.
func sameWord(term string, picked []cand) bool {
	for _, p := range picked {
		for _, part := range p.words {
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

// isLower reports whether a centroid term was written in lower case more
// often than capitalized where case is informative.
func (tt *topicTerm) isLower() bool {
	cased, lower := tt.caseCounts()
	return lower > cased
}

// capital reports whether a headline word is written with a capital: as
// seen, or in a Title Case or shouting headline (uninformative) when the
// storyline's stories capitalize it (name).
func capital(t *token, name, uninformative bool) bool {
	if uninformative {
		return name
	}
	return t.cap
}
