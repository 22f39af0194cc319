package cluster

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word as the tokenizer found it, before stopwords and stems.
type token struct {
	text      string // as written; apostrophes normalized, possessive cut
	lower     string // case-folded text
	sentStart bool   // first word of a sentence (or of a headline part)
	joined    bool   // only whitespace or a hyphen separates it from the previous token
	cap       bool   // first letter is upper case
	allCaps   bool   // two or more letters, all upper case ("NASA", "US")
	number    bool   // digits only (with decimal separators)
	// start and end are the word's byte offsets in the tokenized text,
	// apostrophes and all, so that a phrase of several words can be cut
	// from the text as written ("counter-proposal", not "counter proposal").
	start, end int
}

// abbreviations whose trailing period does not end a sentence, so that the
// word after "Mr." is not mistaken for a sentence start.
var abbreviations = wordSet(`mr mrs ms dr st jr sr gen gov sen rep lt col sgt
	capt cmdr adm prof rev hon pres supt det insp no vs etc inc corp co ltd mt ft`)

// elisions are the clitics French and Italian glue to the next word with an
// apostrophe ("l'Élysée", "qu'il"); they are dropped so the word matches its
// unelided form.
var elisions = wordSet(`l d j m n s t c qu jusqu lorsqu puisqu quoiqu dell all nell sull dall`)

// maxTokens bounds the work for one document: a story is identified long
// before its ten-thousandth word, and a pathological input must not stall the
// single clustering goroutine.
const maxTokens = 5000

// tokenize splits text into word tokens. Letters and digits (any script, with
// combining marks) make words; an apostrophe between letters stays inside a
// word, a hyphen splits it into parts that stay "joined" (so "Jean-Claude Juncker"
// is still one name run); '.' and ',' between digits stay inside numbers
// ("7.3", "1,000" → "1000"); dotted acronyms collapse ("U.S." → "US").
// URLs, e-mail addresses and @handles are skipped whole: their pieces are
// site furniture, not story content.
func tokenize(s string) []token { return tokenizeInto(nil, s) }

// tokenizeInto is tokenize appending to toks (whose tokens it overwrites
// from len(toks) on), so that a caller reuses one array.
func tokenizeInto(toks []token, s string) []token {
	// About one token per five bytes of English text: one allocation
	// instead of a slice grown a token at a time, which was a fifth of the
	// clustering's garbage.
	toks = slices.Grow(toks, min(len(s)/5+1, maxTokens))
	var (
		sentStart = true
		joined    = false
	)
	i := 0
	for i < len(s) && len(toks) < maxTokens {
		// Skip whitespace; a line break ends a sentence (ECB+ bodies, feeds
		// that put one paragraph per line).
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			if r == '\n' || r == '\r' || r == '\u2029' {
				sentStart = true
			}
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += n
		}
		chunk, base := s[i:j], i
		i = j
		if isURLish(chunk) {
			joined = false
			continue
		}
		if isSeparator(chunk) {
			// " - ", " | ", " — " split headlines into parts ("Storm hits
			// coast - Reuters"); what follows is capitalized like a sentence.
			sentStart, joined = true, false
			continue
		}
		n0 := len(toks)
		toks, sentStart, joined = tokenizeChunk(toks, chunk, sentStart, joined)
		for k := n0; k < len(toks); k++ {
			toks[k].start += base
			toks[k].end += base
		}
	}
	return toks
}

func isURLish(c string) bool {
	l := strings.ToLower(c)
	l = strings.TrimLeft(l, `("'[<“‘`)
	if strings.HasPrefix(l, "www.") || strings.Contains(l, "://") {
		return true
	}
	if strings.HasPrefix(l, "@") && len(l) > 1 {
		return true
	}
	if at := strings.IndexByte(l, '@'); at > 0 && strings.Contains(l[at:], ".") {
		return true
	}
	return false
}

func isSeparator(c string) bool {
	for _, r := range c {
		switch r {
		case '-', '–', '—', '|', '~', '•', '·', ':', '/':
		default:
			return false
		}
	}
	return true
}

func isApostrophe(r rune) bool {
	return r == '\'' || r == '’' || r == '‘' || r == 'ʼ' || r == '`'
}

func isHyphen(r rune) bool { return r == '-' || r == '‐' || r == '‑' }

// isCJK reports whether r is a Chinese character or Japanese kana, whose
// words are not separated by spaces. (Korean is: Hangul is not here.)
func isCJK(r rune) bool {
	if r < 0x2e80 { // below the CJK blocks: most text, answered at once
		return false
	}
	switch r {
	case 'ー', 'ｰ', 'ﾞ', 'ﾟ': // the long-vowel mark, and the half-width voicing marks
		return true
	}
	// Letters only: the radicals and the squared and circled katakana of
	// the same blocks are symbols.
	return unicode.IsLetter(r) && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r))
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// tokenizeChunk tokenizes one whitespace-free chunk, appending to toks. It
// returns whether the next token starts a sentence and is joined to the last.
func tokenizeChunk(toks []token, c string, sentStart, joined bool) ([]token, bool, bool) {
	rs := []rune(c)
	var word []rune
	// off is the byte offset in c of rune k, start that of the word's
	// first rune.
	off, start := 0, 0
	emit := func(end int) {
		if len(word) > 0 && len(toks) < maxTokens {
			if t, ok := makeToken(word, sentStart, joined); ok {
				t.start, t.end = start, end
				toks = append(toks, t)
				sentStart = false
			}
		}
		word = word[:0]
	}
	// The width of each rune as it is in c: an invalid byte is one byte
	// there, though []rune made it U+FFFD.
	width := func() int { _, n := utf8.DecodeRuneInString(c[off:]); return n }
	for k := 0; k < len(rs); k, off = k+1, off+width() {
		r := rs[k]
		var prev, next rune
		if k > 0 {
			prev = rs[k-1]
		}
		if k+1 < len(rs) {
			next = rs[k+1]
		}
		switch {
		case isCJK(r):
			// Chinese and Japanese write words without spaces: a run of
			// their characters is cut into overlapping pairs, the usual
			// stand-in for words where there is no segmenter ("経済対策"
			// gives 経済, 済対, 対策), so that two headlines that share
			// words share terms. A lone character is a token of its own.
			emit(off)
			// Go on after the run: the loop steps past its last rune.
			toks, k, off = appendCJKRun(toks, c, rs, k, off, sentStart, joined)
			sentStart, joined = false, false
			continue
		case isWordRune(r):
			if len(word) == 0 {
				start = off
			}
			word = append(word, r)
		case isApostrophe(r) && len(word) > 0 && unicode.IsLetter(prev) && unicode.IsLetter(next) && !isCJK(next):
			word = append(word, '\'')
		case (r == '.' || r == ',') && len(word) > 0 && unicode.IsDigit(prev) && unicode.IsDigit(next):
			if r == '.' {
				word = append(word, '.')
			} // thousands separators vanish: "1,000" == "1000"
		case r == '.' && isAcronymDot(word, next, rs, k):
			// "U.S.A." keeps going as one word; the dots are dropped.
		case isHyphen(r) && len(word) > 0 && isWordRune(next):
			emit(off)
			joined = true
		default:
			endsWord := len(word) > 0
			isAbbrev := r == '.' && endsWord && abbreviations(strings.ToLower(string(word)))
			isAcronymEnd := r == '.' && endsWord && isDottedAcronym(word, rs, k)
			if isAcronymEnd {
				emit(off + 1) // the word is "U.S.", closing dot and all
			} else {
				emit(off)
			}
			// A dot that belongs to the word ("U.S.", "Sen.") leaves the
			// next word joined to it; any other mark separates them.
			joined = isAcronymEnd || isAbbrev
			switch r {
			case '.', '!', '?', ':', ';', '…':
				if !isAbbrev && !isAcronymEnd {
					sentStart = true
				}
			}
		}
	}
	endsInWord := len(word) > 0
	emit(off)
	if endsInWord {
		joined = true // the next chunk follows after whitespace only
	}
	return toks, sentStart, joined
}

// isAcronymDot reports whether the '.' at rs[k] sits inside a dotted acronym:
// the word so far is single letters and the dot is followed by one letter and
// another dot ("U.S.", "U.N.").
func isAcronymDot(word []rune, next rune, rs []rune, k int) bool {
	if len(word) == 0 || !unicode.IsUpper(word[len(word)-1]) || !unicode.IsUpper(next) {
		return false
	}
	if k+2 < len(rs) && rs[k+2] != '.' {
		return false
	}
	// Every previous part must have been a single letter: the word consists of
	// upper-case letters only, and it reached here one letter at a time.
	for _, r := range word {
		if !unicode.IsUpper(r) {
			return false
		}
	}
	return len(word) <= 4
}

// isDottedAcronym reports whether the '.' at rs[k] closes a dotted acronym
// ("U.S."), which is not a sentence end most of the time.
func isDottedAcronym(word []rune, rs []rune, k int) bool {
	return len(word) >= 2 && k >= 2 && rs[k-2] == '.'
}

// makeToken cleans a word's apostrophes and classifies it.
func makeToken(word []rune, sentStart, joined bool) (token, bool) {
	text := string(word)
	if strings.ContainsRune(text, '\'') {
		text = trimApostrophes(text)
		if text == "" {
			return token{}, false
		}
	}
	t := token{text: text, sentStart: sentStart, joined: joined, number: true}
	letters, upper := 0, 0
	for idx, r := range text {
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) || unicode.IsTitle(r) {
				upper++
				if idx == 0 {
					t.cap = true
				}
			}
		}
		if !unicode.IsDigit(r) && r != '.' {
			t.number = false
		}
	}
	t.allCaps = letters >= 2 && upper == letters
	t.lower = strings.ToLower(text)
	return t, true
}

// trimApostrophes removes possessives and contractions ("Japan's" → "Japan",
// "don't" → "don") and elided articles ("l'Élysée" → "Élysée"), and keeps
// apostrophes that belong to a name ("O'Brien").
func trimApostrophes(text string) string {
	i := strings.IndexByte(text, '\'')
	head, tail := text[:i], strings.ToLower(text[i+1:])
	if elisions(strings.ToLower(head)) && utf8.RuneCountInString(tail) >= 2 {
		return trimApostrophes2(text[i+1:])
	}
	return trimApostrophes2(text)
}

func trimApostrophes2(text string) string {
	i := strings.LastIndexByte(text, '\'')
	if i < 0 {
		return text
	}
	switch strings.ToLower(text[i+1:]) {
	case "s", "t", "ll", "re", "ve", "d", "m":
		return text[:i]
	}
	return text
}

// appendCJKRun appends the tokens of the Chinese or Japanese run that
// starts at rune k of the chunk c (runes rs, byte offset off): its
// overlapping pairs of characters, a character with the marks that follow
// it (a voicing mark, a variation selector), or the lone character of a
// run of one. It returns the index and byte offset of the run's last rune.
func appendCJKRun(toks []token, c string, rs []rune, k, off int, sentStart, joined bool) ([]token, int, int) {
	// Rune indexes [from, to) and byte offsets [start, end) in c.
	type char struct{ from, to, start, end int }
	var chars []char
	m, o := k, off
run:
	for ; m < len(rs); m++ {
		_, n := utf8.DecodeRuneInString(c[o:])
		switch {
		case isCJK(rs[m]):
			chars = append(chars, char{m, m + 1, o, o + n})
		case unicode.In(rs[m], unicode.Mn, unicode.Me):
			chars[len(chars)-1].to, chars[len(chars)-1].end = m+1, o+n
		default:
			break run
		}
		o += n
	}
	for p := range chars {
		if p > 0 && p == len(chars)-1 {
			break // the last character is in the pair before it
		}
		q := min(p+1, len(chars)-1)
		if t, ok := makeToken(rs[chars[p].from:chars[q].to], sentStart, joined || p > 0); ok && len(toks) < maxTokens {
			t.start, t.end = chars[p].start, chars[q].end
			toks = append(toks, t)
			sentStart = false
		}
	}
	return toks, m - 1, o - utf8.RuneLen(rs[m-1])
}

// firstRune is the first rune of s, or utf8.RuneError for "".
func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// kanaEdge reports whether a token starts or ends in Hiragana: in Japanese
// the particles and inflections, which a word does not start or end with.
func kanaEdge(text string) bool {
	first, _ := utf8.DecodeRuneInString(text)
	last, _ := utf8.DecodeLastRuneInString(text)
	return isHiragana(first) || isHiragana(last)
}

// isHiragana reports whether r is in the Hiragana block (a range check:
// kanaEdge runs for every token of every language).
func isHiragana(r rune) bool { return r >= 0x3041 && r <= 0x309f }
