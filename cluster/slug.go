package cluster

import (
	"net/url"
	"strings"
	"unicode"
)

// minSlugWords is how many words a path segment needs to count as a slug:
// fewer are section names ("business", "world-news") or ids.
const minSlugWords = 3

// maxSlugLen bounds the slug text read from one link.
const maxSlugLen = 300

// linkSlug returns the words of a link's slug, lower case and separated by
// spaces, or "" when the link has none. The slug is the path segment with
// the most letters among those of at least minSlugWords purely alphabetic
// words; numbers and mixed letter-digit tokens (dates, article ids, hashes)
// are dropped, as is a trailing file extension. Query and fragment are
// ignored: they carry tracking and paging, not content.
func linkSlug(link string) string {
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	best, bestLetters := "", 0
	for _, seg := range strings.Split(u.Path, "/") {
		if k := strings.LastIndexByte(seg, '.'); k > 0 && len(seg)-k <= 6 {
			seg = seg[:k]
		}
		var words []string
		letters := 0
		for _, w := range strings.FieldsFunc(seg, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
		}) {
			if strings.IndexFunc(w, unicode.IsDigit) >= 0 {
				continue
			}
			words = append(words, strings.ToLower(w))
			letters += len(w)
		}
		if len(words) >= minSlugWords && letters > bestLetters {
			best, bestLetters = strings.Join(words, " "), letters
		}
	}
	if len(best) > maxSlugLen {
		best = best[:strings.LastIndexByte(best[:maxSlugLen], ' ')]
	}
	return best
}
