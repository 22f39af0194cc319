package feeds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// The writers below build documents by hand rather than with encoding/xml's
// marshaller: that gives exact control over escaping (hostile text must stay
// well-formed in every reader, not only in Go's) and over namespaces, which
// encoding/xml renders awkwardly for prefixed elements such as atom:link.

// OutFeed is a feed that storyline publishes: the merged stream, the topics
// digest or one topic's stories. Text fields are plain text; the writers
// escape them. All URLs must be absolute.
type OutFeed struct {
	// ID identifies the feed for ever (Atom <id>): an absolute IRI such as
	// a tag: URI or the feed's own URL. Empty means SelfURL.
	ID       string
	Title    string
	Subtitle string
	// SelfURL is where this document is served (rel="self", JSON feed_url).
	SelfURL string
	// HTMLURL is the web page the feed belongs to (rel="alternate", RSS
	// <link>, JSON home_page_url).
	HTMLURL string
	// Language is a BCP 47 tag, or empty.
	Language string
	// Updated is the time of the newest change; zero means the newest item
	// time (and the Unix epoch for an empty feed, since Atom requires one).
	Updated time.Time
	Items   []OutItem
}

// OutItem is one entry of an output feed.
type OutItem struct {
	// ID is stable across requests and never reused: an absolute IRI (the
	// article's canonical link, or a tag: URI). Atom requires an IRI.
	ID string
	// Title is plain text.
	Title string
	// Link is the original article's URL.
	Link string
	// ContentHTML is HTML; the writers sanitize it again (defence in depth)
	// and emit it escaped, never as CDATA.
	ContentHTML string
	// Author is the author's name; empty means the outlet's name.
	Author    string
	Published time.Time
	// Updated is zero when the entry never changed; the writers fall back
	// to Published.
	Updated time.Time
	// Source is the outlet that published the story.
	Source OutSource
	// Topic is the storyline the story belongs to, or nil.
	Topic *OutTopic
	// Categories are extra tags; the topic's name comes first on its own.
	Categories []string
	// AlsoIn lists other outlets that carried the same article; only JSON
	// Feed has a structured place for them (the writer's callers mention
	// them in ContentHTML for the XML formats).
	AlsoIn []OutSource
	// Image is the story's picture (an absolute URL), for JSON Feed's
	// image; readers of the XML formats find it in the content.
	Image string
	// Language is the story's language as its feed declared it; the
	// writers put it out as a BCP 47 tag (see LanguageTag), Atom's
	// xml:lang and JSON Feed's language, so that a reader shows Chinese
	// and Japanese in their own glyphs. RSS has no place for it.
	Language string
}

// LanguageTag returns lang as a well-formed BCP 47 tag ("zh-cn" is
// "zh-CN", "en_US" "en-US"), or "" when it is not one ("English"): an
// attribute a browser or feed reader goes by must not carry what a
// feed's author typed by mistake.
func LanguageTag(lang string) string {
	lang = strings.TrimSpace(lang)
	if lang == "" {
		return ""
	}
	t, err := language.Parse(strings.ReplaceAll(lang, "_", "-"))
	if err != nil || t == language.Und {
		return ""
	}
	return t.String()
}

// OutSource is the outlet (subscribed feed) a story came from.
type OutSource struct {
	Title string
	// URL is the outlet's feed URL.
	URL string
	// HTMLURL is the outlet's web site, or empty.
	HTMLURL string
	// Link is the article's URL at this outlet; used only in AlsoIn.
	Link string
}

// OutTopic is the storyline an item belongs to.
type OutTopic struct {
	ID   int64
	Name string
	// FeedURL is the topic's own feed, which readers can subscribe to.
	FeedURL string
}

const (
	atomNS        = "http://www.w3.org/2005/Atom"
	dcNS          = "http://purl.org/dc/elements/1.1/"
	generatorName = "storyline"
	generatorURI  = "https://github.com/storyline/storyline"
	// JSONFeedVersion is the version URL of the JSON Feed documents written
	// by WriteJSONFeed.
	JSONFeedVersion = "https://jsonfeed.org/version/1.1"
)

// feedUpdated is the feed-level update time: the given one, else the newest
// item's, else the epoch, because Atom and lastBuildDate need some time.
func feedUpdated(f *OutFeed) time.Time {
	if !f.Updated.IsZero() {
		return f.Updated.UTC()
	}
	var newest time.Time
	for i := range f.Items {
		if t := itemUpdated(&f.Items[i], time.Time{}); t.After(newest) {
			newest = t
		}
	}
	if newest.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return newest
}

// itemUpdated is the item's update time, else its publication time, else
// fallback (the feed's), because Atom requires <updated> on every entry.
func itemUpdated(it *OutItem, fallback time.Time) time.Time {
	switch {
	case !it.Updated.IsZero():
		return it.Updated.UTC()
	case !it.Published.IsZero():
		return it.Published.UTC()
	}
	return fallback
}

// itemID falls back to the article's link: Atom and JSON Feed require an
// id, and the link is the next most stable thing.
func itemID(it *OutItem) string {
	if it.ID != "" {
		return it.ID
	}
	return it.Link
}

// categories is the item's tag list: the topic's name first, then the
// others, cleaned and without duplicates.
func categories(it *OutItem) []string {
	var out []string
	seen := map[string]bool{}
	add := func(c string) {
		c = strings.TrimSpace(CleanText(c))
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	if it.Topic != nil {
		add(it.Topic.Name)
	}
	for _, c := range it.Categories {
		add(c)
	}
	return out
}

// itemContent sanitizes the item's HTML once more: the store already holds
// sanitized HTML, but callers compose ContentHTML from several pieces and
// an output feed is the last place to catch a mistake.
func itemContent(it *OutItem) string {
	return CleanText(SanitizeHTML(CleanText(it.ContentHTML), it.Link))
}

func itemAuthor(it *OutItem) string {
	if a := strings.TrimSpace(it.Author); a != "" {
		return a
	}
	if a := strings.TrimSpace(it.Source.Title); a != "" {
		return a
	}
	return "unknown"
}

// CleanText makes s safe to place in an XML 1.0 document (and harmless in
// JSON): invalid UTF-8 becomes U+FFFD, and characters that XML 1.0 forbids
// (C0 controls other than tab, LF and CR; U+FFFE and U+FFFF; surrogates
// encoded in UTF-8) are dropped, because a single one makes strict readers
// reject the whole feed.
func CleanText(s string) string {
	ok := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !xmlChar(r) || r == utf8.RuneError && n == 1 {
			ok = false
			break
		}
		i += n
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			// A UTF-8-encoded surrogate (CESU-8, or half of a broken
			// UTF-16 conversion) is a lone surrogate: drop all three bytes.
			if s[i] == 0xED && i+2 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2]&0xC0 == 0x80 {
				i += 3
				continue
			}
			b.WriteRune(utf8.RuneError)
		case xmlChar(r):
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// xmlChar reports whether r is in XML 1.0's Char production.
func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false
	case r <= 0xFFFD:
		return true
	case r < 0x10000:
		return false
	default:
		return r <= 0x10FFFF
	}
}

// xmlBuf accumulates a document; escaping happens in exactly two places,
// text and attr, so nothing reaches the output unescaped.
type xmlBuf struct{ bytes.Buffer }

// text writes character data: & and < must be escaped, and > is escaped so
// that "]]>" never appears. CR is kept as a reference so that parsers do not
// fold it into LF.
func (b *xmlBuf) text(s string) {
	b.escaped(s, func(c byte) string {
		switch c {
		case '&':
			return "&amp;"
		case '<':
			return "&lt;"
		case '>':
			return "&gt;"
		case '\r':
			return "&#xD;"
		}
		return ""
	})
}

// plain writes RSS plain text as the RSS Best Practices Profile advises:
// hexadecimal references for &, < and >, the form that the widest range of
// aggregators shows literally instead of taking for markup.
func (b *xmlBuf) plain(s string) {
	b.escaped(s, func(c byte) string {
		switch c {
		case '&':
			return "&#x26;"
		case '<':
			return "&#x3C;"
		case '>':
			return "&#x3E;"
		case '\r':
			return "&#xD;"
		}
		return ""
	})
}

// attr writes ` name="value"`; whitespace other than the space is written
// as references, which attribute-value normalization would otherwise turn
// into spaces.
func (b *xmlBuf) attr(name, value string) {
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteString(`="`)
	b.escaped(value, func(c byte) string {
		switch c {
		case '&':
			return "&amp;"
		case '<':
			return "&lt;"
		case '>':
			return "&gt;"
		case '"':
			return "&quot;"
		case '\t':
			return "&#x9;"
		case '\n':
			return "&#xA;"
		case '\r':
			return "&#xD;"
		}
		return ""
	})
	b.WriteByte('"')
}

// escaped writes s, cleaned of what XML forbids, with each byte that esc
// maps to a reference replaced by it. The three writers above differ only
// in that table; the cleaning and the copying are here once.
func (b *xmlBuf) escaped(s string, esc func(byte) string) {
	s = CleanText(s)
	last := 0
	for i := 0; i < len(s); i++ {
		r := esc(s[i])
		if r == "" {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(r)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// elem writes <name>text</name> on its own line, indented.
func (b *xmlBuf) elem(indent, name, text string) {
	b.WriteString(indent)
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	b.text(text)
	b.WriteString("</")
	b.WriteString(name)
	b.WriteString(">\n")
}

// plainElem is elem with RSS plain-text escaping.
func (b *xmlBuf) plainElem(indent, name, text string) {
	b.WriteString(indent)
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	b.plain(text)
	b.WriteString("</")
	b.WriteString(name)
	b.WriteString(">\n")
}

// link writes an Atom <link/> (prefix "atom:" inside RSS).
func (b *xmlBuf) link(indent, prefix, rel, typ, href, title string) {
	b.WriteString(indent)
	b.WriteString("<" + prefix + "link")
	b.attr("rel", rel)
	if typ != "" {
		b.attr("type", typ)
	}
	b.attr("href", href)
	if title != "" {
		b.attr("title", title)
	}
	b.WriteString("/>\n")
}

const xmlHeader = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// WriteAtom writes f as an Atom 1.0 document (RFC 4287).
//
// Each entry has: <id>; <title type="html"> (the plain-text title, escaped
// once as HTML so that no reader takes a literal "<b>" for markup); a
// rel="alternate" link to the original article; a rel="related" link to the
// topic's feed and the topic's name as the first <category>; <published>
// and <updated> (RFC 3339, UTC); an <author> (the outlet when the story
// names none, so every entry satisfies Atom's author rule); <content
// type="html">; and a <source> naming the outlet (its feed URL as id and
// rel="self", its site as rel="alternate").
func WriteAtom(w io.Writer, f *OutFeed) error {
	var b xmlBuf
	b.WriteString(xmlHeader)
	b.WriteString("<feed")
	b.attr("xmlns", atomNS)
	if f.Language != "" {
		b.attr("xml:lang", f.Language)
	}
	b.WriteString(">\n")
	id := f.ID
	if id == "" {
		id = f.SelfURL
	}
	b.elem("  ", "id", id)
	b.WriteString("  <title type=\"text\">")
	b.text(f.Title)
	b.WriteString("</title>\n")
	if f.Subtitle != "" {
		b.WriteString("  <subtitle type=\"text\">")
		b.text(f.Subtitle)
		b.WriteString("</subtitle>\n")
	}
	updated := feedUpdated(f)
	b.elem("  ", "updated", updated.Format(time.RFC3339))
	if f.SelfURL != "" {
		b.link("  ", "", "self", "application/atom+xml", f.SelfURL, "")
	}
	if f.HTMLURL != "" {
		b.link("  ", "", "alternate", "text/html", f.HTMLURL, "")
	}
	b.WriteString("  <generator")
	b.attr("uri", generatorURI)
	b.WriteString(">" + generatorName + "</generator>\n")
	for i := range f.Items {
		writeAtomEntry(&b, &f.Items[i], updated)
	}
	b.WriteString("</feed>\n")
	_, err := w.Write(b.Bytes())
	if err != nil {
		return fmt.Errorf("feeds: write atom: %w", err)
	}
	return nil
}

func writeAtomEntry(b *xmlBuf, it *OutItem, feedUpdated time.Time) {
	b.WriteString("  <entry")
	if tag := LanguageTag(it.Language); tag != "" {
		b.attr("xml:lang", tag)
	}
	b.WriteString(">\n")
	b.elem("    ", "id", itemID(it))
	b.WriteString("    <title type=\"html\">")
	b.text(html.EscapeString(CleanText(it.Title)))
	b.WriteString("</title>\n")
	if it.Link != "" {
		b.link("    ", "", "alternate", "text/html", it.Link, "")
	}
	if it.Topic != nil && it.Topic.FeedURL != "" {
		b.link("    ", "", "related", "application/atom+xml", it.Topic.FeedURL, it.Topic.Name)
	}
	if !it.Published.IsZero() {
		b.elem("    ", "published", it.Published.UTC().Format(time.RFC3339))
	}
	b.elem("    ", "updated", itemUpdated(it, feedUpdated).Format(time.RFC3339))
	b.WriteString("    <author>\n")
	b.elem("      ", "name", itemAuthor(it))
	b.WriteString("    </author>\n")
	for _, c := range categories(it) {
		b.WriteString("    <category")
		b.attr("term", c)
		b.WriteString("/>\n")
	}
	b.WriteString("    <content type=\"html\">")
	b.text(itemContent(it))
	b.WriteString("</content>\n")
	if s := it.Source; s.Title != "" || s.URL != "" {
		b.WriteString("    <source>\n")
		if s.URL != "" {
			b.elem("      ", "id", s.URL)
		}
		if s.Title != "" {
			b.WriteString("      <title type=\"text\">")
			b.text(s.Title)
			b.WriteString("</title>\n")
		}
		if s.URL != "" {
			b.link("      ", "", "self", "", s.URL, "")
		}
		if s.HTMLURL != "" {
			b.link("      ", "", "alternate", "text/html", s.HTMLURL, "")
		}
		b.WriteString("    </source>\n")
	}
	b.WriteString("  </entry>\n")
}

// WriteRSS writes f as an RSS 2.0 document, with the Atom namespace for the
// channel's atom:link rel="self" and Dublin Core for authors (RSS <author>
// must be an e-mail address, which we do not have).
//
// Each item has: <title> (plain text); <link> to the original article;
// <description> (sanitized HTML, escaped, never CDATA); <dc:creator>;
// the topic's name as the first <category>, with domain= the topic's feed
// URL; <guid> (isPermaLink="true" when it is the article's link);
// <pubDate> (RFC 1123 with numeric zone); and <source url=…> naming the
// outlet's feed.
func WriteRSS(w io.Writer, f *OutFeed) error {
	var b xmlBuf
	b.WriteString(xmlHeader)
	b.WriteString("<rss")
	b.attr("version", "2.0")
	b.attr("xmlns:atom", atomNS)
	b.attr("xmlns:dc", dcNS)
	b.WriteString(">\n<channel>\n")
	b.plainElem("  ", "title", f.Title)
	link := f.HTMLURL
	if link == "" {
		link = f.SelfURL
	}
	b.elem("  ", "link", link)
	desc := f.Subtitle
	if desc == "" {
		desc = f.Title
	}
	b.plainElem("  ", "description", desc)
	if f.SelfURL != "" {
		b.link("  ", "atom:", "self", "application/rss+xml", f.SelfURL, "")
	}
	if f.Language != "" {
		b.elem("  ", "language", f.Language)
	}
	b.elem("  ", "lastBuildDate", feedUpdated(f).Format(time.RFC1123Z))
	b.elem("  ", "generator", generatorName)
	b.elem("  ", "docs", "https://www.rssboard.org/rss-specification")
	for i := range f.Items {
		writeRSSItem(&b, &f.Items[i])
	}
	b.WriteString("</channel>\n</rss>\n")
	_, err := w.Write(b.Bytes())
	if err != nil {
		return fmt.Errorf("feeds: write rss: %w", err)
	}
	return nil
}

func writeRSSItem(b *xmlBuf, it *OutItem) {
	b.WriteString("  <item>\n")
	b.plainElem("    ", "title", it.Title)
	if it.Link != "" {
		b.elem("    ", "link", it.Link)
	}
	b.elem("    ", "description", itemContent(it))
	b.plainElem("    ", "dc:creator", itemAuthor(it))
	for i, c := range categories(it) {
		b.WriteString("    <category")
		if i == 0 && it.Topic != nil && it.Topic.FeedURL != "" {
			b.attr("domain", it.Topic.FeedURL)
		}
		b.WriteString(">")
		b.plain(c)
		b.WriteString("</category>\n")
	}
	if id := itemID(it); id != "" {
		b.WriteString("    <guid")
		b.attr("isPermaLink", fmt.Sprint(id == it.Link))
		b.WriteString(">")
		b.text(id)
		b.WriteString("</guid>\n")
	}
	if !it.Published.IsZero() {
		b.elem("    ", "pubDate", it.Published.UTC().Format(time.RFC1123Z))
	}
	if s := it.Source; s.URL != "" {
		b.WriteString("    <source")
		b.attr("url", s.URL)
		b.WriteString(">")
		b.plain(s.Title)
		b.WriteString("</source>\n")
	}
	b.WriteString("  </item>\n")
}

// JSON Feed document shapes. Field order is the order of the output.
type (
	jsonFeed struct {
		Version     string     `json:"version"`
		Title       string     `json:"title"`
		HomePageURL string     `json:"home_page_url,omitempty"`
		FeedURL     string     `json:"feed_url,omitempty"`
		Description string     `json:"description,omitempty"`
		Language    string     `json:"language,omitempty"`
		Storyline   *jsonFeedX `json:"_storyline,omitempty"`
		Items       []jsonItem `json:"items"`
	}
	jsonFeedX struct {
		About   string `json:"about"`
		ID      string `json:"id,omitempty"`
		Updated string `json:"updated"`
	}
	jsonItem struct {
		ID            string       `json:"id"`
		URL           string       `json:"url,omitempty"`
		Title         string       `json:"title"`
		ContentHTML   string       `json:"content_html"`
		DatePublished string       `json:"date_published,omitempty"`
		DateModified  string       `json:"date_modified,omitempty"`
		Authors       []jsonAuthor `json:"authors,omitempty"`
		Tags          []string     `json:"tags,omitempty"`
		Image         string       `json:"image,omitempty"`
		Language      string       `json:"language,omitempty"`
		Storyline     jsonItemX    `json:"_storyline"`
	}
	jsonAuthor struct {
		Name string `json:"name"`
		URL  string `json:"url,omitempty"`
	}
	jsonItemX struct {
		About  string       `json:"about"`
		Outlet *jsonOutlet  `json:"outlet,omitempty"`
		Topic  *jsonTopic   `json:"topic,omitempty"`
		AlsoIn []jsonOutlet `json:"also_in,omitempty"`
	}
	jsonOutlet struct {
		Title       string `json:"title"`
		FeedURL     string `json:"feed_url,omitempty"`
		HomePageURL string `json:"home_page_url,omitempty"`
		URL         string `json:"url,omitempty"`
	}
	jsonTopic struct {
		ID      int64  `json:"id"`
		Name    string `json:"name"`
		FeedURL string `json:"feed_url,omitempty"`
	}
)

// jsonExtAbout is the "about" of our extension objects, as JSON Feed asks
// of extensions (a URL that explains them).
const jsonExtAbout = generatorURI + "#json-feed-extension"

// WriteJSONFeed writes f as a JSON Feed 1.1 document.
//
// The feed has version, title, home_page_url, feed_url, description,
// language, and an extension object "_storyline" {about, id, updated}. Each
// item has id (a string), url, title, content_html (sanitized), date_published
// and date_modified (RFC 3339), authors ([{name, url}]: the author, else the
// outlet), tags (topic name first), and "_storyline":
//
//	{"about": "…",
//	 "outlet": {"title", "feed_url", "home_page_url"},  // when the item has one
//	 "topic": {"id", "name", "feed_url"},            // when the item has one
//	 "also_in": [{"title", "feed_url", "home_page_url", "url"}]}  // other outlets
func WriteJSONFeed(w io.Writer, f *OutFeed) error {
	doc := jsonFeed{
		Version:     JSONFeedVersion,
		Title:       CleanText(f.Title),
		HomePageURL: CleanText(f.HTMLURL),
		FeedURL:     CleanText(f.SelfURL),
		Description: CleanText(f.Subtitle),
		Language:    CleanText(f.Language),
		Storyline: &jsonFeedX{About: jsonExtAbout, ID: CleanText(f.ID),
			Updated: feedUpdated(f).Format(time.RFC3339)},
		Items: make([]jsonItem, 0, len(f.Items)),
	}
	for i := range f.Items {
		it := &f.Items[i]
		ji := jsonItem{
			ID:          CleanText(itemID(it)),
			URL:         CleanText(it.Link),
			Title:       CleanText(it.Title),
			ContentHTML: itemContent(it),
			Authors:     []jsonAuthor{{Name: CleanText(itemAuthor(it)), URL: CleanText(it.Source.HTMLURL)}},
			Tags:        categories(it),
			Image:       CleanText(it.Image),
			Language:    LanguageTag(it.Language),
			Storyline: jsonItemX{
				About: jsonExtAbout,
			},
		}
		if it.Source != (OutSource{}) {
			o := outlet(it.Source)
			ji.Storyline.Outlet = &o
		}
		if it.Author != "" {
			// The author is a person; the outlet's site is not theirs.
			ji.Authors[0].URL = ""
		}
		if !it.Published.IsZero() {
			ji.DatePublished = it.Published.UTC().Format(time.RFC3339)
		}
		if t := itemUpdated(it, time.Time{}); !t.IsZero() {
			ji.DateModified = t.Format(time.RFC3339)
		}
		if it.Topic != nil {
			ji.Storyline.Topic = &jsonTopic{ID: it.Topic.ID, Name: CleanText(it.Topic.Name),
				FeedURL: CleanText(it.Topic.FeedURL)}
		}
		for _, s := range it.AlsoIn {
			ji.Storyline.AlsoIn = append(ji.Storyline.AlsoIn, outlet(s))
		}
		doc.Items = append(doc.Items, ji)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// HTML escaping stays on: \u003c in strings is valid JSON and keeps the
	// document inert if some proxy serves it as text/html.
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("feeds: write json feed: %w", err)
	}
	return nil
}

func outlet(s OutSource) jsonOutlet {
	return jsonOutlet{Title: CleanText(s.Title), FeedURL: CleanText(s.URL),
		HomePageURL: CleanText(s.HTMLURL), URL: CleanText(s.Link)}
}
