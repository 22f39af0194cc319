package feeds

import (
	"bytes"
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	gfjson "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"
	"golang.org/x/net/html/charset"
)

// NotFeedError reports a document that parsed as something other than a
// feed. When it is an HTML page with <link rel="alternate"> feeds, FeedLinks
// lists them so the caller can subscribe to one instead.
type NotFeedError struct {
	URL string
	// Found says what the document is, e.g. "an HTML page" or "an empty body".
	Found     string
	FeedLinks []string
}

// htmlPage is NotFeedError.Found for an HTML page.
const htmlPage = "an HTML page"

// IsPage reports whether what was found is an HTML page: one that may link
// to the site's feeds (see Discover), where anything else is a broken feed.
func (e *NotFeedError) IsPage() bool { return e.Found == htmlPage }

// Error says what was found instead of a feed, and lists any announced feeds
// so that the message alone tells a user what to subscribe to.
func (e *NotFeedError) Error() string {
	switch {
	case len(e.FeedLinks) > 0:
		return fmt.Sprintf("feeds: %s is %s with feed links: %s", e.URL, e.Found, strings.Join(e.FeedLinks, ", "))
	case e.IsPage():
		return fmt.Sprintf("feeds: %s is %s, no feed links", e.URL, e.Found)
	default:
		return fmt.Sprintf("feeds: %s is %s, not a feed", e.URL, e.Found)
	}
}

// Parse decodes an RSS, Atom or JSON Feed document and normalizes it into
// our types. feedURL is where the body came from (Response.URL): relative
// links resolve against it. now stands in for entries without any date.
// Anything that is not a feed yields an error, never an empty Feed.
func Parse(body []byte, feedURL string, now time.Time) (*Feed, error) {
	return ParseCharset(body, "", feedURL, now)
}

// ParseCharset is Parse for a body whose HTTP Content-Type named a charset
// (Response.Charset). Servers state one far more often than they state it
// right: many send their default (ISO-8859-1, or UTF-8) for every file. So
// the charset is used only where the body cannot speak for itself: an XML
// feed that is not valid UTF-8 and declares no encoding of its own (or
// declares UTF-8, which its bytes contradict). A body that is valid UTF-8
// is UTF-8 whatever the header says; a legacy encoding almost never
// produces valid multi-byte sequences by chance.
func ParseCharset(body []byte, httpCharset, feedURL string, now time.Time) (*Feed, error) {
	start := skipBOMAndSpace(body)
	if len(start) == 0 {
		return nil, &NotFeedError{URL: feedURL, Found: "an empty body"}
	}

	var gf *gofeed.Feed
	var err error
	switch start[0] {
	case '{':
		gf, err = parseGofeed(body)
		if err != nil {
			return nil, &NotFeedError{URL: feedURL, Found: "malformed JSON"}
		}
		jf, _ := gf.OriginalFeed().(*gfjson.Feed)
		if jf == nil || !strings.Contains(jf.Version, "jsonfeed.org/version/") {
			return nil, &NotFeedError{URL: feedURL, Found: "JSON that is not a JSON Feed"}
		}
	case '[':
		return nil, &NotFeedError{URL: feedURL, Found: "JSON that is not a JSON Feed"}
	case '<':
		// gofeed looks for the root element in the first few kilobytes: a
		// long comment or stylesheet instruction before it must not hide
		// the feed.
		body = trimProlog(start)
		if httpCharset != "" && !utf8.Valid(body) {
			if enc := declaredEncoding(body); enc == "" || isUTF8Label(enc) {
				if u, err := transcode(body, httpCharset); err == nil {
					body = u
				}
			}
		}
		switch gofeed.DetectFeedType(bytes.NewReader(body)) {
		case gofeed.FeedTypeRSS, gofeed.FeedTypeAtom:
			gf, err = parseGofeed(body)
			if err != nil && !utf8.Valid(body) {
				gf, err = parseInvalidUTF8(body)
			}
			if err != nil {
				return nil, fmt.Errorf("feeds: parse %s: %w", feedURL, err)
			}
		default:
			return nil, notFeedMarkup(start, feedURL)
		}
	default:
		return nil, &NotFeedError{URL: feedURL, Found: "content starting with " + quotePrefix(start)}
	}
	return normalize(gf, feedURL, now), nil
}

// parseInvalidUTF8 parses a document that is not valid UTF-8 and declared
// no other encoding. A UTF-8 document with a few stray bytes is read as
// UTF-8 with those bytes replaced: reading it all as windows-1252 would
// garble every accented letter. Mostly invalid bytes mean an undeclared
// legacy encoding, and windows-1252 is what such feeds almost always are
// (it maps every byte).
func parseInvalidUTF8(body []byte) (*gofeed.Feed, error) {
	if mostlyUTF8(body) {
		if gf, err := parseGofeed(bytes.ToValidUTF8(body, []byte("\uFFFD"))); err == nil {
			return gf, nil
		}
	}
	utf, err := fromWindows1252(body)
	if err != nil {
		return nil, err
	}
	return parseGofeed(utf)
}

// mostlyUTF8 reports whether most non-ASCII sequences in b are valid UTF-8.
func mostlyUTF8(b []byte) bool {
	valid, invalid := 0, 0
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			b = b[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			invalid++
		} else {
			valid++
		}
		b = b[n:]
	}
	return valid > invalid
}

func fromWindows1252(b []byte) ([]byte, error) {
	return transcode(b, "windows-1252")
}

// transcode converts an XML document from the encoding named by label (a
// WHATWG encoding label) to UTF-8, and drops its XML declaration, whose
// encoding no longer applies.
func transcode(b []byte, label string) ([]byte, error) {
	r, err := charset.NewReaderLabel(label, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	u, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if m := xmlDecl.FindIndex(u); m != nil {
		u = u[m[1]:]
	}
	return u, nil
}

var (
	xmlDecl     = regexp.MustCompile(`^\s*<\?xml[^>]*\?>`)
	xmlEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([^"']+)["']`)
)

// declaredEncoding returns the encoding named in the XML declaration, lower
// case, or "" when there is none.
func declaredEncoding(b []byte) string {
	if m := xmlEncoding.FindSubmatch(b[:min(len(b), 512)]); m != nil {
		return strings.ToLower(string(m[1]))
	}
	return ""
}

func isUTF8Label(label string) bool {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "unicode-1-1-utf-8":
		return true
	}
	return false
}

// rssTranslator skips gofeed's image lookup, which parses every item's HTML
// into a DOM (a seventh of the parse time) for a field we do not use.
var rssTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}

func parseGofeed(body []byte) (*gofeed.Feed, error) {
	p := gofeed.NewParser()
	p.RSSTranslator = rssTranslator
	// The original carries what the universal type drops: RSS <ttl>,
	// isPermaLink, JSON Feed version and item language.
	p.KeepOriginalFeed = true
	return p.Parse(bytes.NewReader(body))
}

// notFeedMarkup classifies markup that gofeed did not recognize: an HTML
// page (with its feed links, for autodiscovery), another XML vocabulary, or
// broken markup.
func notFeedMarkup(start []byte, feedURL string) error {
	htmlPage := func() error {
		base, _ := url.Parse(feedURL)
		return &NotFeedError{URL: feedURL, Found: htmlPage, FeedLinks: FeedLinks(start, base)}
	}
	head := start[:min(len(start), 4096)]
	if containsFold(head, "<!doctype html") {
		return htmlPage()
	}
	d := xml.NewDecoder(bytes.NewReader(head))
	d.Strict = false
	d.CharsetReader = charset.NewReaderLabel
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch strings.ToLower(se.Name.Local) {
			case "html", "head", "body":
				return htmlPage()
			}
			return &NotFeedError{URL: feedURL, Found: fmt.Sprintf("an XML document with root <%s>", se.Name.Local)}
		}
	}
	if containsFold(head, "<html") || containsFold(head, "<body") {
		return htmlPage()
	}
	return &NotFeedError{URL: feedURL, Found: "malformed markup starting with " + quotePrefix(start)}
}

// containsFold is a case-insensitive bytes.Contains for an ASCII lower-case
// needle, without lower-casing (and copying) the haystack.
func containsFold(s []byte, needle string) bool {
	for i := 0; i+len(needle) <= len(s); i++ {
		j := 0
		for ; j < len(needle); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
		}
		if j == len(needle) {
			return true
		}
	}
	return false
}

// trimProlog drops the comments, processing instructions and doctype between
// the XML declaration (kept: it names the encoding) and the root element.
func trimProlog(b []byte) []byte {
	var decl []byte
	rest := b
	if bytes.HasPrefix(rest, []byte("<?xml ")) || bytes.HasPrefix(rest, []byte("<?xml\t")) {
		end := bytes.Index(rest, []byte("?>"))
		if end < 0 {
			return b
		}
		decl, rest = rest[:end+2], rest[end+2:]
	}
	trimmed := false
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		var end int
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end = bytes.Index(rest, []byte("-->"))
			if end >= 0 {
				end += 3
			}
		case bytes.HasPrefix(rest, []byte("<?")):
			end = bytes.Index(rest, []byte("?>"))
			if end >= 0 {
				end += 2
			}
		case bytes.HasPrefix(rest, []byte("<!DOCTYPE")) && !bytes.Contains(rest[:bytes.IndexByte(rest, '>')+1], []byte("[")):
			end = bytes.IndexByte(rest, '>') + 1
		default:
			if !trimmed {
				return b
			}
			out := make([]byte, 0, len(decl)+1+len(rest))
			out = append(append(append(out, decl...), '\n'), rest...)
			return out
		}
		if end <= 0 {
			return b
		}
		rest, trimmed = rest[end:], true
	}
}

func quotePrefix(b []byte) string {
	if len(b) > 24 {
		b = b[:24]
	}
	return strconv.Quote(string(b))
}

func skipBOMAndSpace(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return bytes.TrimLeft(b, " \t\r\n")
}

func normalize(gf *gofeed.Feed, feedURL string, now time.Time) *Feed {
	feedBase, _ := url.Parse(feedURL)
	base := feedBase
	site := absURL(feedBase, gf.Link)
	if site != nil {
		base = site
	}
	out := &Feed{
		Title:    StripMarkup(PlainText(gf.Title)),
		Language: normalizeLang(gf.Language),
		TTL:      feedTTL(gf),
		Entries:  make([]Entry, 0, len(gf.Items)),
	}
	if site != nil {
		out.SiteLink = site.String()
	}
	feedAuthor := personName(gf.Authors, gf.Author)
	fallbacks := make([]fallbackID, 0, len(gf.Items))

	var rssItems []*rss.Item
	var jsonItems []*gfjson.Item
	switch orig := gf.OriginalFeed().(type) {
	case *rss.Feed:
		rssItems = orig.Items
	case *gfjson.Feed:
		jsonItems = orig.Items
	}

	for i, it := range gf.Items {
		var e Entry
		e.Title = StripMarkup(PlainText(it.Title))

		link := it.Link
		if link == "" && len(it.Links) > 0 {
			link = it.Links[0]
		}
		if link == "" && i < len(rssItems) {
			// An RSS guid is a permalink unless it says otherwise.
			if g := rssItems[i].GUID; g != nil && !strings.EqualFold(g.IsPermalink, "false") {
				link = g.Value
			}
		}
		e.Link = canonicalLink(link, base)

		contentBase := base
		if e.Link != "" {
			contentBase, _ = url.Parse(e.Link)
		}
		summary, content := it.Description, it.Content
		if i < len(jsonItems) {
			// JSON Feed summary and content_text are plain text, not HTML.
			ji := jsonItems[i]
			summary = html.EscapeString(ji.Summary)
			content = ji.ContentHTML
			if content == "" {
				content = html.EscapeString(ji.ContentText)
			}
			e.Language = ji.Language
		}
		e.Summary = sanitizeWithBase(summary, contentBase)
		e.Content = sanitizeWithBase(content, contentBase)
		e.Image = entryImage(it, e.Content, e.Summary, feedBase)
		if content != "" {
			e.Text = PlainText(content)
		}
		if e.Text == "" {
			e.Text = PlainText(summary)
		}

		e.Author = personName(it.Authors, it.Author)
		if e.Author == "" {
			e.Author = feedAuthor
		}
		e.Categories = cleanCategories(it.Categories)

		var dateKey string
		if it.UpdatedParsed != nil {
			e.Updated = it.UpdatedParsed.UTC()
		}
		switch {
		case it.PublishedParsed != nil:
			e.Published = it.PublishedParsed.UTC()
			dateKey = e.Published.Format(time.RFC3339)
		case !e.Updated.IsZero():
			e.Published = e.Updated
			dateKey = e.Updated.Format(time.RFC3339)
		default:
			e.Published = now.UTC()
			e.Undated = true
			dateKey = strings.TrimSpace(it.Published + it.Updated)
		}

		// A date in the future is the publisher's mistake (a wrong clock or
		// time zone, or a post pinned with a 2099 date). Taken at face value
		// it would head every merged feed for years and drag the clustering's
		// clock ahead, closing every open storyline. Such an entry counts
		// as undated: published when first seen. The id keeps the raw date.
		if limit := now.Add(maxFutureSkew); e.Published.After(limit) {
			e.Published, e.Undated = now.UTC(), true
		}
		if e.Updated.After(now.Add(maxFutureSkew)) {
			e.Updated = time.Time{}
		}

		// The content hash stands in for an id when the feed gives neither
		// GUID nor link, and when links repeat within the document (a
		// changelog whose items link to anchors of one page, a feed that
		// links every item to its home page): one id for several items
		// would keep only one of them.
		sum := sha1.Sum([]byte(link + "\x00" + e.Title + "\x00" + dateKey + "\x00" + e.Text))
		hashID := "sha1:" + hex.EncodeToString(sum[:])
		guid := strings.TrimSpace(it.GUID) != ""
		switch {
		case guid:
			e.ID = strings.TrimSpace(it.GUID)
		case e.Link != "":
			e.ID = e.Link
		default:
			// Title and date only, so that an edited body stays one entry.
			sum := sha1.Sum([]byte(e.Title + "\x00" + dateKey))
			e.ID = "sha1:" + hex.EncodeToString(sum[:])
		}

		if e.Language == "" && it.DublinCoreExt != nil && len(it.DublinCoreExt.Language) > 0 {
			e.Language = it.DublinCoreExt.Language[0]
		}
		e.Language = normalizeLang(e.Language)
		if e.Language == "" {
			e.Language = out.Language
		}
		out.Truncated += limitEntry(&e)
		out.Entries = append(out.Entries, e)
		fallbacks = append(fallbacks, fallbackID{hash: hashID, fromGUID: guid})
	}
	// Links that repeat within the document do not identify an item.
	seen := make(map[string]int, len(out.Entries))
	for _, e := range out.Entries {
		seen[e.ID]++
	}
	for i := range out.Entries {
		if !fallbacks[i].fromGUID && seen[out.Entries[i].ID] > 1 {
			out.Entries[i].ID = fallbacks[i].hash
		}
	}
	// A GUID that repeats on items with other links (a feed generator's
	// slip) would keep one of them and drop the rest unsaid. Each of them
	// is told apart by its link, whatever its place in the document, so
	// that an item added above them does not take another's id.
	links := make(map[string]map[string]bool, len(out.Entries))
	for i, e := range out.Entries {
		if fallbacks[i].fromGUID && seen[e.ID] > 1 {
			if links[e.ID] == nil {
				links[e.ID] = map[string]bool{}
			}
			links[e.ID][e.Link] = true
		}
	}
	for i := range out.Entries {
		e := &out.Entries[i]
		if len(links[e.ID]) < 2 {
			continue
		}
		e.ID = capID(e.ID + " " + cmp.Or(e.Link, fallbacks[i].hash))
	}
	dropBoilerplate(out.Entries)
	out.Title, out.SiteLink, out.Language = Storable(out.Title), Storable(out.SiteLink), Storable(out.Language)
	return out
}

// dropBoilerplate takes out of the entries' plain text (what stories are
// clustered and searched by) a sentence that most items of the document
// repeat: "This article first appeared on Plainville Courier, your
// trusted source for local news." On a feed's first poll, before any
// statistics discount it, such a sentence made unrelated stories look
// alike (six of eight joined one storyline), and every story of the feed
// matched a search for its words. The summary and content, which readers
// see, keep it. It takes three items, and half of them, to call a
// sentence of four words (or ten characters) or more boilerplate: two
// stories may share a sentence of their own, and a split after "U.S." is
// not a sentence.
func dropBoilerplate(es []Entry) {
	if len(es) < 3 {
		return
	}
	sentences := make([][]string, len(es))
	count := make(map[string]int)
	for i := range es {
		sentences[i] = splitSentences(es[i].Text)
		seen := make(map[string]bool, len(sentences[i]))
		for _, s := range sentences[i] {
			if k := sentenceKey(s); k != "" && !seen[k] {
				seen[k] = true
				count[k]++
			}
		}
	}
	repeated := func(s string) bool {
		k := sentenceKey(s)
		n := count[k]
		// A sentence, not a piece cut off after "U.S." or "Dr.": four
		// words, or in writing without spaces (Chinese, Japanese) ten
		// characters.
		return n >= 3 && 2*n >= len(es) && (strings.Count(k, " ") >= 3 || utf8.RuneCountInString(k) >= 10)
	}
	for i := range es {
		if !slices.ContainsFunc(sentences[i], repeated) {
			continue
		}
		var b strings.Builder
		for _, s := range sentences[i] {
			if !repeated(s) {
				b.WriteString(s)
			}
		}
		es[i].Text = strings.TrimSpace(b.String())
	}
}

// splitSentences cuts plain text after each sentence's end mark and the
// spaces that follow it, and after each line, so that the pieces joined
// are the text again. A full stop of Chinese or Japanese ("。", "！",
// "？") ends a sentence without a space after it.
func splitSentences(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if r != '\n' && !strings.ContainsRune("。！？", r) &&
			!(strings.ContainsRune(".!?…", r) && (i+utf8.RuneLen(r) == len(text) || text[i+utf8.RuneLen(r)] == ' ')) {
			continue
		}
		end := i + utf8.RuneLen(r)
		for end < len(text) && (text[end] == ' ' || text[end] == '\n') {
			end++
		}
		if end > start {
			out = append(out, text[start:end])
			start = end
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// sentenceKey is a sentence as compared across items: its words, in lower
// case.
func sentenceKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// fallbackID is what an entry's id would be if its link could not serve.
type fallbackID struct {
	hash     string
	fromGUID bool
}

// maxFutureSkew is how far ahead of our clock an entry's date may be before
// it is not believed: servers' clocks disagree by seconds, a time zone
// mistake is off by hours.
const maxFutureSkew = 10 * time.Minute

func personName(people []*gofeed.Person, single *gofeed.Person) string {
	for _, p := range people {
		if p != nil && strings.TrimSpace(p.Name) != "" {
			return PlainText(p.Name)
		}
	}
	if single != nil {
		return PlainText(single.Name)
	}
	return ""
}

func cleanCategories(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	// Only the first ones are kept (limitEntry); looking at a few more
	// leaves room for duplicates and empty ones without an O(n²) walk of
	// 10,000 hostile tags.
	in = in[:min(len(in), 4*MaxCategories)]
	out := make([]string, 0, len(in))
	for _, c := range in {
		c = PlainText(c)
		if c == "" {
			continue
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// absURL resolves ref against base and keeps it only if the result is an
// http(s) URL: a site link of "javascript:…" is not a site.
func absURL(base *url.URL, ref string) *url.URL {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil
	}
	u.Host = strings.ToLower(u.Host)
	return u
}

// CanonicalLink makes link absolute against base and strips what differs
// between two copies of the same article: tracking parameters (utm_*,
// fbclid, gclid) and the fragment. Other parameters keep their order. It
// returns "" for links that are not http(s). Exported so that links from
// elsewhere (OPML, the command line) compare equal to Entry.Link.
func CanonicalLink(link, base string) string {
	b, _ := url.Parse(base)
	return canonicalLink(link, b)
}

func canonicalLink(link string, base *url.URL) string {
	u := absURL(base, link)
	if u == nil {
		return ""
	}
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		u.RawQuery = stripTracking(u.RawQuery)
		u.ForceQuery = false
	}
	return u.String()
}

func stripTracking(q string) string {
	var b strings.Builder
	for q != "" {
		var part string
		part, q, _ = strings.Cut(q, "&")
		key, _, _ := strings.Cut(part, "=")
		if part == "" || isTrackingParam(key) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(part)
	}
	return b.String()
}

func isTrackingParam(key string) bool {
	if len(key) >= 4 && strings.EqualFold(key[:4], "utm_") {
		return true
	}
	return strings.EqualFold(key, "fbclid") || strings.EqualFold(key, "gclid")
}

// normalizeLang brings "EN-us" or "en_US" to the BCP 47 casing "en-US" so
// that languages compare equal across feeds.
func normalizeLang(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 35 {
		return ""
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' })
	for i, p := range parts {
		switch {
		case i == 0:
			parts[i] = strings.ToLower(p)
		case len(p) == 2:
			parts[i] = strings.ToUpper(p)
		case len(p) == 4:
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		default:
			parts[i] = strings.ToLower(p)
		}
	}
	return strings.Join(parts, "-")
}

// feedTTL reads the publisher's polling hint: RSS <ttl> in minutes, else the
// syndication module's updatePeriod divided by updateFrequency.
func feedTTL(gf *gofeed.Feed) time.Duration {
	if rf, ok := gf.OriginalFeed().(*rss.Feed); ok {
		if m, err := strconv.Atoi(strings.TrimSpace(rf.TTL)); err == nil && m > 0 {
			return time.Duration(min(m, 60*24*365)) * time.Minute
		}
	}
	sy := gf.Extensions["sy"]
	period := extValue(sy, "updatePeriod")
	if period == "" {
		return 0
	}
	var d time.Duration
	switch strings.ToLower(period) {
	case "hourly":
		d = time.Hour
	case "daily":
		d = 24 * time.Hour
	case "weekly":
		d = 7 * 24 * time.Hour
	case "monthly":
		d = 30 * 24 * time.Hour
	case "yearly":
		d = 365 * 24 * time.Hour
	default:
		return 0
	}
	if f, err := strconv.Atoi(extValue(sy, "updateFrequency")); err == nil && f > 1 {
		d /= time.Duration(f)
	}
	return d
}

func extValue(m map[string][]ext.Extension, name string) string {
	if vs := m[name]; len(vs) > 0 {
		return strings.TrimSpace(vs[0].Value)
	}
	return ""
}
