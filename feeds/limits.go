package feeds

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Limits on what one entry keeps. A feed is written by whoever runs its
// server: without them a 5 MB title was stored whole and served in every
// page and feed, and 10,000 categories per item were kept and re-emitted.
// Each is far above what a real story needs (the longest headlines are a
// few hundred bytes; long-form articles a few hundred KiB of HTML), and the
// 16 MiB body cap bounds the document as a whole.
const (
	MaxTitleBytes    = 1 << 10   // plain text
	MaxSummaryBytes  = 64 << 10  // sanitized HTML
	MaxContentBytes  = 512 << 10 // sanitized HTML
	MaxTextBytes     = 128 << 10 // plain text: what clustering and search read
	MaxAuthorBytes   = 256
	MaxCategories    = 32
	MaxCategoryBytes = 128
	// MaxLinkBytes drops a longer link rather than cut it: a cut URL leads
	// nowhere. Browsers and servers commonly stop at 8 KiB.
	MaxLinkBytes = 4 << 10
	// MaxIDBytes replaces a longer id by its hash, which identifies the
	// entry as well and cannot collide with a cut one.
	MaxIDBytes = 1 << 10
)

// DefaultMaxItems is how many entries of one document are kept, the newest
// ones: a real feed carries tens to hundreds, and a 100,000-item document
// took 623 MB to store and cluster at once.
const DefaultMaxItems = 1000

// Storable is s without NUL characters and with invalid UTF-8 replaced:
// neither is text anyone wrote, and PostgreSQL refuses both, so a JSON
// feed with "\u0000" in a title would otherwise fail every save of its
// polls there. Parse applies it to every text it returns; storyline
// migrate to text stored before it did.
func Storable(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

// limitEntry makes e's fields storable and cuts them to the limits above,
// and returns how many it cut.
func limitEntry(e *Entry) int {
	for _, s := range []*string{&e.ID, &e.Link, &e.Title, &e.Summary, &e.Content, &e.Text, &e.Author, &e.Language, &e.Image} {
		*s = Storable(*s)
	}
	for i := range e.Categories {
		e.Categories[i] = Storable(e.Categories[i])
	}
	n := 0
	cut := func(s *string, max int) {
		if len(*s) > max {
			*s = truncateText(*s, max)
			n++
		}
	}
	cutHTML := func(s *string, max int) {
		if len(*s) > max {
			*s = truncateHTML(*s, max)
			n++
		}
	}
	cut(&e.Title, MaxTitleBytes)
	cutHTML(&e.Summary, MaxSummaryBytes)
	cutHTML(&e.Content, MaxContentBytes)
	cut(&e.Text, MaxTextBytes)
	cut(&e.Author, MaxAuthorBytes)
	if len(e.Link) > MaxLinkBytes {
		e.Link = ""
		n++
	}
	if len(e.Image) > MaxLinkBytes {
		e.Image = ""
		n++
	}
	if len(e.ID) > MaxIDBytes {
		e.ID = capID(e.ID)
		n++
	}
	if len(e.Categories) > MaxCategories {
		e.Categories = e.Categories[:MaxCategories]
		n++
	}
	for i := range e.Categories {
		cut(&e.Categories[i], MaxCategoryBytes)
	}
	return n
}

// LimitItems keeps the newest max entries of doc (all when max <= 0 or
// there are no more), in document order, and returns how many it dropped.
func LimitItems(doc *Feed, max int) int {
	if max <= 0 || len(doc.Entries) <= max {
		return 0
	}
	// The publication time of the max-th newest entry is the cut; among
	// entries at that time, the first ones in the document stay.
	times := make([]int64, len(doc.Entries))
	for i, e := range doc.Entries {
		times[i] = e.Published.UnixNano()
	}
	sorted := slices.Clone(times)
	slices.SortFunc(sorted, func(a, b int64) int { return cmp.Compare(b, a) })
	cutoff := sorted[max-1]
	above := 0 // entries strictly newer than the cut, all kept
	for _, t := range times {
		if t > cutoff {
			above++
		}
	}
	atCut := max - above
	kept := doc.Entries[:0]
	for i, e := range doc.Entries {
		switch {
		case times[i] > cutoff:
		case times[i] == cutoff && atCut > 0:
			atCut--
		default:
			continue
		}
		kept = append(kept, e)
	}
	dropped := len(doc.Entries) - len(kept)
	clear(doc.Entries[len(kept):])
	doc.Entries = kept
	return dropped
}

// truncateText cuts s to at most max bytes, at a rune boundary, and marks
// the cut with an ellipsis.
func truncateText(s string, max int) string {
	const ellipsis = "…"
	end := max - len(ellipsis)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return strings.TrimRight(s[:end], " \t\n") + ellipsis
}

// truncateHTML cuts sanitized HTML to about max bytes without leaving a
// tag cut in half or an element open: the cut fragment is parsed and
// written out again, which closes what was open.
func truncateHTML(s string, max int) string {
	end := max
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	cut := s[:end]
	if lt := strings.LastIndexByte(cut, '<'); lt > strings.LastIndexByte(cut, '>') {
		cut = cut[:lt]
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(cut), ctx)
	if err != nil {
		return truncateText(PlainText(cut), max)
	}
	var b strings.Builder
	for _, n := range nodes {
		if err := html.Render(&b, n); err != nil {
			return truncateText(PlainText(cut), max)
		}
	}
	return b.String() + "…"
}

// capID is an id as stored: one longer than MaxIDBytes is replaced by its
// hash, which identifies the item as well.
func capID(id string) string {
	if len(id) <= MaxIDBytes {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}
