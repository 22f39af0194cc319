package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/storyline/storyline/cmd/storyline/internal/period"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// format is one output format of the feeds.
type format struct {
	contentType string
	write       func(io.Writer, *feeds.OutFeed) error
}

var formats = map[string]format{
	"atom": {"application/atom+xml; charset=utf-8", feeds.WriteAtom},
	"rss":  {"application/rss+xml; charset=utf-8", feeds.WriteRSS},
	"json": {"application/feed+json; charset=utf-8", feeds.WriteJSONFeed},
}

const (
	defaultLimit = 50
	maxLimit     = 500
	// digestStories is how many stories a topic digest entry lists.
	digestStories = 20
)

// params are the query parameters every feed takes.
type params struct {
	limit  int
	since  time.Duration // 0: no limit (or the topic window)
	q      string
	feedID int64
}

// query is the canonical query string of p: only what differs from the
// defaults, in a fixed order.
func (p params) query() string {
	if p == (params{limit: defaultLimit}) {
		return "" // the common case, without building url.Values
	}
	v := url.Values{}
	if p.limit != defaultLimit {
		v.Set("limit", strconv.Itoa(p.limit))
	}
	if p.since > 0 {
		v.Set("since", period.Format(p.since))
	}
	if p.q != "" {
		v.Set("q", p.q)
	}
	if p.feedID != 0 {
		v.Set("feed", strconv.FormatInt(p.feedID, 10))
	}
	return v.Encode()
}

// badRequest is an error the client made; its text is the 400's body.
type badRequest string

func (e badRequest) Error() string { return string(e) }

// movedTo is a topic ID whose stories are now in another topic (merged, or
// renumbered by a recluster): the client is sent there for good.
type movedTo struct{ from, to int64 }

func (e movedTo) Error() string { return fmt.Sprintf("topic %d is now topic %d", e.from, e.to) }

func parseParams(r *http.Request) (params, error) {
	if r.URL.RawQuery == "" {
		return params{limit: defaultLimit}, nil
	}
	v := r.URL.Query()
	p := params{limit: defaultLimit, q: strings.TrimSpace(v.Get("q"))}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, badRequest(fmt.Sprintf("limit must be a positive integer, not %q", s))
		}
		// Asking for more than the maximum is not an error: it gets the
		// maximum, as with any page size.
		p.limit = min(n, maxLimit)
	}
	if s := v.Get("since"); s != "" {
		d, err := period.Parse(s)
		if err != nil || d <= 0 {
			return p, badRequest(fmt.Sprintf("since must be a positive period such as 90m, 24h, 3d or 2w, not %q", s))
		}
		p.since = d
	}
	if s := v.Get("feed"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return p, badRequest(fmt.Sprintf("feed must be a feed id (a positive integer), not %q", s))
		}
		p.feedID = n
	}
	if p.q != "" && !hasWords(p.q) {
		return p, badRequest(fmt.Sprintf("q %q has no words to search for", p.q))
	}
	return p, nil
}

// hasWords reports whether q has something the full-text search can look
// for (the store rejects punctuation-only queries).
func hasWords(q string) bool {
	return strings.IndexFunc(q, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// feedBuilder builds one feed document for a request.
type feedBuilder func(ctx context.Context, r *http.Request, ext string, p params) (*feeds.OutFeed, error)

// feedHandler adapts a feedBuilder: parameters, rendering, conditional GET.
func (s *Server) feedHandler(ext string, build feedBuilder) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := parseParams(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.serveFeed(w, r, ext, p, build)
	}
}

func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request, ext string, p params, build feedBuilder) {
	key := s.base(r) + r.URL.Path + "?" + p.query()
	s.cached(w, r, key, p.q != "", func() *rendered { return s.renderFeed(w, r, ext, p, build) })
}

// renderFeed builds and writes a feed, or answers with the error and
// returns nil.
func (s *Server) renderFeed(w http.ResponseWriter, r *http.Request, ext string, p params, build feedBuilder) *rendered {
	if p.feedID != 0 {
		// A feed unsubscribed since (or a typo) is gone, not quiet: a
		// reader subscribed to it should say so, not show nothing forever.
		_, err := s.store.Feed(r.Context(), strconv.FormatInt(p.feedID, 10))
		if errors.Is(err, store.ErrNotFound) {
			http.Error(w, fmt.Sprintf("not found: no feed %d (storyline feeds lists them)", p.feedID), http.StatusNotFound)
			return nil
		}
		if err != nil {
			s.fail(w, r, err)
			return nil
		}
	}
	f, err := build(r.Context(), r, ext, p)
	var br badRequest
	var mv movedTo
	switch {
	case errors.As(err, &br):
		http.Error(w, br.Error(), http.StatusBadRequest)
		return nil
	case errors.As(err, &mv):
		// A permanent redirect: feed readers update the subscription, so
		// the reader keeps following the storyline.
		to := s.links(r, ext, p).topicFeed(mv.to)
		if q := p.query(); q != "" {
			to += "?" + q
		}
		http.Redirect(w, r, to, http.StatusMovedPermanently)
		return nil
	case errors.Is(err, store.ErrGone):
		// A storyline that ended: 410 tells a reader to drop the
		// subscription rather than retry it.
		http.Error(w, "gone: this storyline has ended and its stories were removed", http.StatusGone)
		return nil
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, "not found", http.StatusNotFound)
		return nil
	case err != nil:
		s.fail(w, r, err)
		return nil
	}
	if len(f.Items) == 0 && f.Updated.IsZero() {
		// No item dates an empty feed (a search without hits, a quiet
		// outlet); it is as of the last change of the data, not of 1970.
		if dv, err := s.store.DataVersion(r.Context()); err == nil {
			f.Updated = dv.Changed
		}
	}
	fm := formats[ext]
	var buf bytes.Buffer
	if err := fm.write(&buf, f); err != nil {
		s.fail(w, r, err)
		return nil
	}
	return newRendered(fm.contentType, buf.Bytes())
}

// handleTopicFeed serves /topics/{id}.{ext}, and /topics/{id} as the
// storyline's page (handleTopicPage): junk ids are the client's mistake
// (400), unknown formats and topics do not exist (404).
func (s *Server) handleTopicFeed(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if id, err := strconv.ParseInt(file, 10, 64); err == nil && id > 0 {
		s.handleTopicPage(w, r, id)
		return
	}
	idText, ext, ok := strings.Cut(file, ".")
	if !ok {
		// A page was asked for (/topics/0, /topics/abc): answer as a page.
		s.notFoundPage(w, r, "No such storyline", fmt.Sprintf("%q is not a storyline number.", file))
		return
	}
	if _, known := formats[ext]; !known {
		http.Error(w, "not found: topic feeds are /topics/ID.atom, .rss or .json", http.StatusNotFound)
		return
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id < 1 {
		http.Error(w, fmt.Sprintf("bad topic id %q", idText), http.StatusBadRequest)
		return
	}
	p, err := parseParams(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.serveFeed(w, r, ext, p, func(ctx context.Context, r *http.Request, ext string, p params) (*feeds.OutFeed, error) {
		return s.topicFeed(ctx, r, ext, p, id)
	})
}

// mergedFeed is every story, newest first, each article once.
func (s *Server) mergedFeed(ctx context.Context, r *http.Request, ext string, p params) (*feeds.OutFeed, error) {
	stories, err := s.stories(ctx, p, 0)
	if err != nil {
		return nil, err
	}
	l := s.links(r, ext, p)
	f := &feeds.OutFeed{
		Title:    s.title + ": all stories",
		Subtitle: "Every story from every subscribed outlet, newest first, each article once, with its storyline.",
		SelfURL:  l.self,
		HTMLURL:  l.base + "/",
	}
	f.ID = f.SelfURL
	f.Items = items(l, stories)
	return f, nil
}

// topicFeed is the stories of one topic.
func (s *Server) topicFeed(ctx context.Context, r *http.Request, ext string, p params, id int64) (*feeds.OutFeed, error) {
	t, err := s.store.Topic(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// Merged into another topic, or renumbered by a recluster?
		to, err := s.store.TopicMovedTo(ctx, id)
		if err != nil {
			return nil, err
		}
		return nil, movedTo{from: id, to: to}
	}
	if err != nil {
		return nil, err
	}
	stories, err := s.stories(ctx, p, id)
	if err != nil {
		return nil, err
	}
	l := s.links(r, ext, p)
	f := &feeds.OutFeed{
		ID:       l.tag("topic/" + strconv.FormatInt(id, 10) + "/feed"),
		Title:    s.title + ": " + feeds.StripMarkup(t.Name),
		Subtitle: feeds.StripMarkup(t.Headline),
		SelfURL:  l.self,
		HTMLURL:  l.topicPage(id),
		Updated:  t.Last,
	}
	f.Items = items(l, stories)
	return f, nil
}

// topicsFeed has one entry per active topic. The entry's id is the topic's
// and its updated time the topic's last story, so a reader shows a grown
// topic as an update of the same entry, not as a new one.
func (s *Server) topicsFeed(ctx context.Context, r *http.Request, ext string, p params) (*feeds.OutFeed, error) {
	digests, err := s.activeTopics(ctx, p, digestStories)
	if err != nil {
		return nil, err
	}
	l := s.links(r, ext, p)
	f := &feeds.OutFeed{
		Title:    s.title + ": storylines",
		Subtitle: "One entry per active storyline, updated as it grows.",
		SelfURL:  l.self,
		HTMLURL:  l.base + "/",
	}
	f.ID = f.SelfURL
	for _, d := range digests {
		f.Items = append(f.Items, digestItem(l, d, s.loc))
	}
	return f, nil
}

// story is one article: the copy shown and the other feeds' copies of it.
type story struct {
	store.StoredEntry
	also []store.StoredEntry
}

// alsoNamed is the copies worth naming beside the story: the first of each
// outlet title not named yet, the story's own first. An outlet's main and
// section feeds carry one article under one name, and "Local Gazette,
// also Local Gazette" tells a reader nothing. Copies are folded by their
// link, so the ones left out add no link either.
func (st story) alsoNamed() []store.StoredEntry {
	if len(st.also) == 0 {
		return nil
	}
	named := map[string]bool{st.FeedTitle: true}
	var out []store.StoredEntry
	for _, a := range st.also {
		if !named[a.FeedTitle] {
			named[a.FeedTitle] = true
			out = append(out, a)
		}
	}
	return out
}

// stories returns up to p.limit articles matching p (and the topic, when
// not 0), newest first, with copies of one article (same canonical link)
// folded into one story. Since folding shrinks the list, it fetches more
// rows until the page is full or the store has no more.
func (s *Server) stories(ctx context.Context, p params, topicID int64) ([]story, error) {
	var since time.Time
	if p.since > 0 {
		since = s.now().Add(-p.since)
	}
	if p.q != "" {
		return s.searchStories(ctx, p, topicID, since)
	}
	// Duplicates are a few percent of a stream: a quarter more rows
	// usually fills the page in one query.
	n := p.limit + p.limit/4 + 5
	for {
		es, err := s.store.Entries(ctx, store.EntryQuery{FeedID: p.feedID, TopicID: topicID, Since: since, Limit: n})
		if err != nil {
			return nil, err
		}
		out := fold(es)
		if len(out) >= p.limit || len(es) < n || n >= 100*maxLimit {
			return out[:min(len(out), p.limit)], nil
		}
		n *= 4
	}
}

// searchStories answers q through the full-text index, which ranks by
// relevance; the best matches are then filtered and shown newest first like
// every feed.
func (s *Server) searchStories(ctx context.Context, p params, topicID int64, since time.Time) ([]story, error) {
	found, err := s.store.Search(ctx, p.q, min(max(p.limit*4, 200), 2000))
	if err != nil {
		return nil, err
	}
	es := found[:0]
	for _, e := range found {
		if (p.feedID == 0 || e.FeedID == p.feedID) && (topicID == 0 || e.TopicID == topicID) &&
			(since.IsZero() || !e.Entry.Published.Before(since)) {
			es = append(es, e)
		}
	}
	out := fold(es)
	return out[:min(len(out), p.limit)], nil
}

// fold groups entries by canonical link. The copy kept is the earliest
// (the outlet that had it first), and the story keeps that copy's place in
// time, so a late syndicated copy does not bring an old article back to the
// top. Entries without a link are never folded.
func fold(es []store.StoredEntry) []story {
	byLink := make(map[string]int, len(es))
	out := make([]story, 0, len(es))
	for _, e := range es {
		link := e.Entry.Link
		i, dup := byLink[link]
		if link == "" || !dup {
			if link != "" {
				byLink[link] = len(out)
			}
			out = append(out, story{StoredEntry: e})
			continue
		}
		st := &out[i]
		if earlier(e, st.StoredEntry) {
			st.also = append(st.also, st.StoredEntry)
			st.StoredEntry = e
		} else {
			st.also = append(st.also, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return earlier(out[j].StoredEntry, out[i].StoredEntry) })
	for i := range out {
		sort.SliceStable(out[i].also, func(a, b int) bool { return earlier(out[i].also[a], out[i].also[b]) })
	}
	return out
}

// earlier orders entries by publication, then by row id, so that ties
// resolve the same way on every request (and the ETag stays put).
func earlier(a, b store.StoredEntry) bool {
	if !a.Entry.Published.Equal(b.Entry.Published) {
		return a.Entry.Published.Before(b.Entry.Published)
	}
	return a.ID < b.ID
}

// links builds the absolute URLs of one response.
type links struct {
	base string // no trailing slash
	host string // for tag: URIs
	ext  string // the format requested, used for links to topic feeds
	self string
}

func (s *Server) links(r *http.Request, ext string, p params) links {
	l := links{base: s.base(r), ext: ext}
	u, err := url.Parse(l.base)
	if err == nil {
		l.host = u.Hostname()
	}
	if l.host == "" {
		l.host = "localhost"
	}
	l.self = l.base + r.URL.Path
	// The parameters as understood, in a fixed order: the same feed has
	// one self link however the client spelled its query.
	if q := p.query(); q != "" {
		l.self += "?" + q
	}
	return l
}

// tag is a tag: URI (RFC 4151) under the server's host: a permanent id
// that, unlike a URL, nobody expects to dereference.
func (l links) tag(specific string) string {
	host := l.host
	if ip := net.ParseIP(host); ip != nil || !strings.Contains(host, ".") {
		// RFC 4151 authorities are domain names or e-mail addresses.
		host = "storyline.invalid"
	}
	return "tag:" + host + ",2026:" + specific
}

// topicFeed is a topic's feed in the format of the current response, so a
// reader that follows it gets the format it already reads.
func (l links) topicFeed(id int64) string {
	return l.base + "/topics/" + strconv.FormatInt(id, 10) + "." + l.ext
}

// topicPage is the topic's own HTML page.
func (l links) topicPage(id int64) string {
	return l.base + "/topics/" + strconv.FormatInt(id, 10)
}

// items turns stories into feed items.
func items(l links, stories []story) []feeds.OutItem {
	out := make([]feeds.OutItem, 0, len(stories))
	for _, st := range stories {
		var topic *store.Topic
		if st.TopicID != 0 {
			// The entry query brings the topic's name along: no query per
			// topic while rendering.
			topic = &store.Topic{ID: st.TopicID, Name: st.TopicName}
		}
		out = append(out, storyItem(l, st, topic))
	}
	return out
}

func storyItem(l links, st story, topic *store.Topic) feeds.OutItem {
	e := st.Entry
	it := feeds.OutItem{
		ID:         e.Link,
		Title:      entryTitle(e),
		Link:       e.Link,
		Author:     e.Author,
		Published:  e.Published,
		Updated:    e.Updated,
		Source:     outlet(st.StoredEntry),
		Categories: e.Categories,
		Image:      e.Image,
		Language:   e.Language,
	}
	if it.ID == "" {
		// The row id is stable for the life of the database.
		it.ID = l.tag("entry/" + strconv.FormatInt(st.ID, 10))
	}
	if topic != nil {
		it.Topic = &feeds.OutTopic{ID: topic.ID, Name: topic.Name, FeedURL: l.topicFeed(topic.ID)}
	}
	content := e.Content
	if content == "" {
		content = e.Summary
	}
	if also := st.alsoNamed(); len(also) > 0 {
		// Readers of the XML formats have no structured place for the
		// other copies, so the content names them.
		var b strings.Builder
		b.WriteString(content)
		b.WriteString("<p>Also reported by ")
		for i, a := range also {
			if i > 0 {
				b.WriteString(", ")
			}
			if a.Entry.Link == e.Link {
				b.WriteString(html.EscapeString(a.FeedTitle))
			} else {
				fmt.Fprintf(&b, `<a href="%s">%s</a>`, html.EscapeString(a.Entry.Link), html.EscapeString(a.FeedTitle))
			}
			src := outlet(a)
			src.Link = a.Entry.Link
			it.AlsoIn = append(it.AlsoIn, src)
		}
		b.WriteString(".</p>")
		content = b.String()
	}
	it.ContentHTML = content
	return it
}

// outlet describes the feed an entry came from. The store does not return
// the feed's site link with entries, so the site is the article's origin,
// which is right for all but syndicated copies.
func outlet(e store.StoredEntry) feeds.OutSource {
	src := feeds.OutSource{Title: e.FeedTitle, URL: e.FeedURL}
	if u, err := url.Parse(e.Entry.Link); err == nil && u.Host != "" {
		src.HTMLURL = u.Scheme + "://" + u.Host + "/"
	}
	return src
}

// entryTitle is the title shown for an entry: its own, else the start of
// its text. Markup is stripped again here, and not only at ingest, for
// titles stored before ingest stripped it and for text, which may hold
// literal markup too (decoded from entities); readers that render titles
// as HTML must never get any.
func entryTitle(e feeds.Entry) string {
	if t := feeds.StripMarkup(e.Title); t != "" {
		return t
	}
	return truncate(feeds.StripMarkup(e.Text), 100)
}

// truncate cuts s to at most n runes at a word boundary, with an ellipsis.
func truncate(s string, n int) string {
	// Walk to the n-th rune rather than convert the whole text: a
	// storyline page cuts hundreds of texts of up to 128 KiB.
	cut, runes := s, 0
	for i := range s {
		if runes == n {
			cut = s[:i]
			break
		}
		runes++
	}
	if len(cut) == len(s) {
		return s
	}
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// digest is an active topic with its latest stories.
type digest struct {
	store.Topic
	stories []story
}

// activeTopics returns the topics whose last story falls inside the window
// (p.since, else the server's topic window), best first, with up to
// perTopic stories each. q keeps the topics with a matching story, feed the
// topics with a story from that feed.
func (s *Server) activeTopics(ctx context.Context, p params, perTopic int) ([]digest, error) {
	window := s.topicWindow
	if p.since > 0 {
		window = p.since
	}
	tq := store.TopicQuery{Since: s.now().Add(-window), MinSize: s.minTopicSize}
	if p.q == "" && p.feedID == 0 {
		// Nothing filters the ranked list: the store need count the
		// outlets of the topics shown only.
		tq.Limit = p.limit
	}
	topics, err := s.store.Topics(ctx, tq)
	if err != nil {
		return nil, err
	}
	var match map[int64]bool
	if p.q != "" {
		found, err := s.store.Search(ctx, p.q, 2000)
		if err != nil {
			return nil, err
		}
		match = map[int64]bool{}
		for _, e := range found {
			match[e.TopicID] = true
		}
	}
	var out []digest
	for _, t := range topics {
		if len(out) == p.limit {
			break
		}
		if match != nil && !match[t.ID] {
			continue
		}
		if p.feedID != 0 {
			es, err := s.store.Entries(ctx, store.EntryQuery{TopicID: t.ID, FeedID: p.feedID, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(es) == 0 {
				continue
			}
		}
		stories, err := s.stories(ctx, params{limit: perTopic}, t.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, digest{Topic: t, stories: stories})
	}
	return out, nil
}

// digestItem is a topic's entry in the topics feed: its headline and the
// list of its stories with their outlets.
func digestItem(l links, d digest, loc *time.Location) feeds.OutItem {
	var b strings.Builder
	fmt.Fprintf(&b, "<p><strong>%s</strong></p>\n<ul>\n", html.EscapeString(feeds.StripMarkup(d.Headline)))
	var outlets []string
	seen := map[string]bool{}
	for _, st := range d.stories {
		fmt.Fprintf(&b, `<li><a href="%s">%s</a> — %s, %s`, html.EscapeString(st.Entry.Link),
			html.EscapeString(entryTitle(st.Entry)), html.EscapeString(st.FeedTitle),
			st.Entry.Published.In(loc).Format("2 Jan 15:04 MST"))
		for _, a := range st.alsoNamed() {
			// Copies are folded by canonical link, so most share the
			// story's link; only a different one is worth a second link.
			if a.Entry.Link == st.Entry.Link {
				fmt.Fprintf(&b, ", also %s", html.EscapeString(a.FeedTitle))
			} else {
				fmt.Fprintf(&b, `, also <a href="%s">%s</a>`, html.EscapeString(a.Entry.Link), html.EscapeString(a.FeedTitle))
			}
		}
		b.WriteString("</li>\n")
		for _, name := range append([]string{st.FeedTitle}, feedTitles(st.also)...) {
			if !seen[name] {
				seen[name] = true
				outlets = append(outlets, name)
			}
		}
	}
	b.WriteString("</ul>\n")
	if more := d.Stories - len(d.stories); more > 0 {
		fmt.Fprintf(&b, `<p>%d more in <a href="%s">the storyline's feed</a>.</p>`, more, html.EscapeString(l.topicFeed(d.ID)))
	}
	id := strconv.FormatInt(d.ID, 10)
	return feeds.OutItem{
		ID:          l.tag("topic/" + id),
		Title:       feeds.StripMarkup(d.Name),
		Link:        l.topicPage(d.ID),
		ContentHTML: b.String(),
		Author:      outletList(outlets),
		Published:   d.First,
		Updated:     d.Last,
		Topic:       &feeds.OutTopic{ID: d.ID, Name: d.Name, FeedURL: l.topicFeed(d.ID)},
	}
}

func feedTitles(es []store.StoredEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.FeedTitle
	}
	return out
}

// outletList names up to three outlets: "A, B, C and 2 more".
func outletList(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}
