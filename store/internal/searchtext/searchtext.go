// Package searchtext writes text in the form the stores' full-text
// indexes can search: Chinese and Japanese cut into character pairs, and
// full-width and half-width forms folded together (NFKC).
//
// SQLite's unicode61 tokenizer and PostgreSQL's parser cut words at spaces and punctuation, and these
// languages put none between words, so a whole run of characters
// ("国际会议在北京举行") was one token and a search for one word of it
// ("北京") found nothing. A run is indexed as its overlapping character
// pairs, then its characters; a query's run is looked up by its pairs in
// order (or by its one character), which finds every word of two
// characters or more wherever it stands: the bigram indexing of Lucene's
// CJKBigramFilter, with its unigrams kept for one-character searches.
//
// The characters counted are those of the ranges in runeRanges. The
// PostgreSQL migration that indexes the same way (storyline_cjk) spells
// out the same ranges: a character the two disagreed on would be indexed
// one way and searched another.
package searchtext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// runeRanges are the characters written without spaces between words:
// Hiragana, Katakana (with its phonetic extensions and half-width forms),
// the CJK unified and compatibility ideographs, and the ideographic
// iteration and number marks 々〆〇.
var runeRanges = [...][2]rune{
	{0x3005, 0x3007},
	{0x3041, 0x309f},
	{0x30a0, 0x30ff},
	{0x31f0, 0x31ff},
	{0x3400, 0x4dbf},
	{0x4e00, 0x9fff},
	{0xf900, 0xfaff},
	{0xff66, 0xff9f},
	{0x20000, 0x3134f},
}

// isCJK reports whether r is written without spaces between words.
func isCJK(r rune) bool {
	if r < 0x3005 {
		return false
	}
	for _, rg := range runeRanges {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

// Index returns the text to index for s: s in NFKC (see fold), with each
// run of Chinese or Japanese characters replaced by its overlapping pairs
// and then its single characters, all separated by spaces. ASCII text is
// returned unchanged, without copying.
func Index(s string) string {
	s = fold(s)
	if !hasCJK(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) * 3)
	forRuns(s, func(text string, cjk bool) {
		if !cjk {
			b.WriteString(text)
			return
		}
		b.WriteByte(' ')
		writePairs(&b, text)
		if utf8.RuneCountInString(text) > 1 {
			for _, r := range text {
				b.WriteByte(' ')
				b.WriteRune(r)
			}
		}
		b.WriteByte(' ')
	})
	return b.String()
}

// Query splits one word of a search, in NFKC (see fold), into the phrases
// the index holds: its parts in other scripts as they are, and each run
// of Chinese or Japanese characters as its pairs, in order and separated
// by spaces (or as its one character). Parts between runs that hold no
// letter or digit are left out. Every phrase must match; a word without
// such characters is one phrase, itself.
func Query(word string) []string {
	word = fold(word)
	if !hasCJK(word) {
		return []string{word}
	}
	var out []string
	forRuns(word, func(text string, cjk bool) {
		if !cjk {
			// Punctuation beside a run ("北京。", "「北京」") is no part
			// of the search: PostgreSQL's parser may take it for a word
			// of its own, which no entry holds.
			if strings.IndexFunc(text, isWordRune) >= 0 {
				out = append(out, strings.TrimSpace(text))
			}
			return
		}
		var b strings.Builder
		writePairs(&b, text)
		out = append(out, b.String())
	})
	return out
}

// fold returns s in Unicode's compatibility composition (NFKC), which
// both the index and the queries hold: full-width Latin letters and
// digits, as Japanese and Chinese text often has them ("ＦＴＡ", "１２万円"),
// become the ASCII ones, and half-width katakana the full-width ones
// ("ｶﾞｲﾄﾞ" is "ガイド"), so that a search typed one way finds text
// written the other. Text in NFKC already, all ASCII text among it, is
// returned as it is.
func fold(s string) string {
	if norm.NFKC.IsNormalString(s) {
		return s
	}
	return norm.NFKC.String(s)
}

// isWordRune reports whether r can be part of a word: a letter or a
// digit.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

// hasCJK reports whether s holds a character isCJK counts. All of them
// are outside ASCII, so most text is passed over byte by byte.
func hasCJK(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			for _, r := range s[i:] {
				if isCJK(r) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// forRuns calls f with the consecutive pieces of s, each either a run of
// CJK characters (cjk true) or the text between two runs.
func forRuns(s string, f func(text string, cjk bool)) {
	start, in := 0, false
	for i, r := range s {
		if c := isCJK(r); c != in {
			if i > start {
				f(s[start:i], in)
			}
			start, in = i, c
		}
	}
	if start < len(s) {
		f(s[start:], in)
	}
}

// writePairs writes a run's overlapping character pairs separated by
// spaces, or its one character.
func writePairs(b *strings.Builder, run string) {
	rs := []rune(run)
	if len(rs) == 1 {
		b.WriteRune(rs[0])
		return
	}
	for i := 0; i+1 < len(rs); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(rs[i])
		b.WriteRune(rs[i+1])
	}
}
