// Package feeds speaks the outside world's formats: it fetches feeds over HTTP
// politely, parses RSS, Atom and JSON Feed into our own Entry type, discovers
// feeds on HTML pages, reads and writes OPML, and writes the output feeds that
// storyline serves. gofeed's types never leave this package, so the rest of the
// program depends only on what is declared here.
package feeds

import "time"

// Entry is one story as the rest of storyline sees it, normalized from
// whatever format the feed used.
type Entry struct {
	// ID is stable across polls: the GUID, else the canonical link, else a hash
	// of title and date. Together with the feed it identifies the entry.
	ID string
	// Link is the canonical article URL: absolute, with tracking parameters
	// (utm_*, fbclid, gclid) and the fragment removed, so that the same article
	// carried by two feeds compares equal.
	Link string
	// Title is plain text: tags stripped, entities decoded.
	Title string
	// Summary is the short description as sanitized HTML.
	Summary string
	// Content is the full content as sanitized HTML (no scripts, event
	// handlers, iframes or styles), or empty when the feed has only a summary.
	Content string
	// Text is the plain text of the content (or summary): tags stripped,
	// entities decoded, whitespace collapsed. It is what clustering reads.
	Text string
	// Author is the author's name, when the feed gives one.
	Author string
	// Categories are the entry's tags as the feed gives them.
	Categories []string
	// Published falls back to Updated, then to the time the entry was first
	// seen, so it is never zero after normalization.
	Published time.Time
	// Updated is the entry's own update time, or zero.
	Updated time.Time
	// Undated is set when the feed gave no date at all, so Published is the
	// time the entry was first seen; the store then keeps the first such time
	// instead of treating every re-poll as a change.
	Undated bool
	// Language is a BCP 47 tag from the entry or its feed ("en", "de-DE"), or
	// empty when neither says.
	Language string
	// Image is the absolute http(s) URL of the story's picture, when the
	// feed gives one (see entryImage), or empty. storyline links to it and
	// never fetches it.
	Image string
}

// Feed is a parsed document: the feed's own metadata and its entries.
type Feed struct {
	Title    string
	SiteLink string // the site the feed belongs to, absolute
	Language string
	// TTL is how often the publisher asks to be polled (RSS <ttl>,
	// sy:updatePeriod/sy:updateFrequency), or zero when it does not say.
	TTL     time.Duration
	Entries []Entry
	// Truncated counts the fields cut to the limits of limits.go (a
	// 5 MB title, 10,000 categories), for the poll summary.
	Truncated int
}
