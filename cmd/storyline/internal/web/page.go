package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"html/template"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// What the pages show: the front page's storylines (chosen among the
// store's best candidates by the ranking below), the headlines under each
// beside its lead, the latest stories, a storyline page's stories, and a
// search's hits.
const (
	frontTopics     = 24
	frontCandidates = 60
	frontMore       = 4
	frontLatest     = 12
	topicPageMax    = 500
	searchPageMax   = 100
	snippetRunes    = 280
)

// rankScore is the front page's "what is big now": outlets count twice as
// much as stories (fifty copies of one wire story are one outlet's news,
// five outlets reporting is big news), a story is an article (one that an
// outlet's main and section feeds both carry is not two), and both fade
// with the hours since the storyline's latest story, counted from the
// newest storyline's so that an archive ranks the same whenever it is
// read. The power 1.5 lets a big storyline of this morning stay above a
// small one of this minute, and sends a big one of last week below both.
func rankScore(t store.Topic, newest time.Time) float64 {
	hours := max(newest.Sub(t.Last).Hours(), 0)
	return float64(t.Stories+2*t.Outlets) / math.Pow(hours+2, 1.5)
}

// styleVersion names this build's stylesheet, so that it can be cached for
// a year: a new stylesheet has a new URL.
var styleVersion = func() string {
	sum := sha256.Sum256([]byte(siteStyle))
	return hex.EncodeToString(sum[:6])
}()

// handleStyle serves the one stylesheet of every page.
func (s *Server) handleStyle(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	if r.URL.Query().Get("v") == styleVersion {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	w.Write([]byte(siteStyle))
}

var pageFuncs = template.FuncMap{
	// time and iso are timeFuncs', bound to the server's zone by pagesIn.
	"time": timeFuncs(time.UTC)["time"],
	"iso":  timeFuncs(time.UTC)["iso"],
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	},
}

// timeLayout is how pages write a time for people, with its zone's
// abbreviation (or offset, where the zone has none).
const timeLayout = "Mon 2 Jan 15:04 MST"

// timeFuncs are the templates' time (for people) and iso (for the
// datetime attribute) in loc.
func timeFuncs(loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"time": func(t time.Time) string { return t.In(loc).Format(timeLayout) },
		"iso":  func(t time.Time) string { return t.In(loc).Format(time.RFC3339) },
	}
}

// pagesIn returns copies of the page templates that write times in loc.
func pagesIn(loc *time.Location) map[*template.Template]*template.Template {
	funcs := timeFuncs(loc)
	out := make(map[*template.Template]*template.Template)
	for _, t := range []*template.Template{frontTemplate, topicTemplate, searchTemplate, notFoundTemplate} {
		out[t] = template.Must(t.Clone()).Funcs(funcs)
	}
	return out
}

// pageTemplates are the pages, sharing one frame: no external assets but
// the stylesheet and the outlets' images, and no script, so a page works in
// any browser. html/template escapes every feed-supplied string and
// filters unsafe URLs in href and src.
var pageTemplates = template.Must(template.New("frame").Funcs(pageFuncs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Heading}}{{.Heading}} · {{end}}{{.Site.Title}}</title>
<link rel="stylesheet" href="{{.Site.Style}}">
{{range .Site.Feeds}}{{.LinkTag}}
{{end}}</head>
<body>
<header class="top">
<a class="site" href="{{.Site.Home}}">{{.Site.Title}}</a>
<form class="search" role="search" method="get" action="{{.Site.Search}}">
<label for="q" class="hidden">Search the stories</label>
<input id="q" name="q" type="search" placeholder="Search the stories" value="{{.Site.Query}}">
<button type="submit">Search</button>
</form>
</header>
<main>
{{template "body" .}}
</main>
<footer>
<nav aria-label="Feeds"><p>Subscribe:
{{range $i, $f := .Site.FeedLinks}}{{if $i}} · {{end}}<a href="{{$f.URL}}">{{$f.Title}}</a>{{end}}</p></nav>
</footer>
</body>
</html>
{{define "story"}}{{if .Link}}<a href="{{.Link}}"{{with .Lang}} lang="{{.}}"{{end}}>{{.Title}}</a>{{else}}<span{{with .Lang}} lang="{{.}}"{{end}}>{{.Title}}</span>{{end}} <span class="src">{{.Outlet}}, <time datetime="{{iso .Time}}">{{time .Time}}</time>{{range .Also}}, also {{if .Link}}<a href="{{.Link}}">{{.Outlet}}</a>{{else}}{{.Outlet}}{{end}}{{end}}</span>{{end}}
{{define "image"}}{{with .}}<img src="{{.URL}}" alt="{{.Alt}}" width="160" height="90" loading="lazy" referrerpolicy="no-referrer">{{end}}{{end}}
`))

var frontTemplate = template.Must(template.Must(pageTemplates.Clone()).Parse(`{{define "body"}}
<h1 class="hidden">Storylines</h1>
{{if .Topics}}<div class="storylines">
{{range .Topics}}<article class="storyline" id="topic-{{.ID}}">
<h2{{with .Lang}} lang="{{.}}"{{end}}><a href="{{.URL}}">{{.Name}}</a></h2>
<div class="lead">{{template "image" .Image}}
<p class="headline">{{template "story" .Lead}}</p></div>
<p class="meta">{{plural .Stories "story" "stories"}} from {{plural .NOutlets "outlet" "outlets"}}, <time datetime="{{iso .First}}">{{time .First}}</time> to <time datetime="{{iso .Last}}">{{time .Last}}</time></p>
{{if .More}}<ul class="more">
{{range .More}}<li>{{template "story" .}}</li>
{{end}}</ul>
{{end}}<p class="outlets">{{range $i, $o := .Outlets}}{{if $i}} · {{end}}{{$o.Title}} ({{$o.Stories}}){{end}}</p>
<p class="all"><a href="{{.URL}}">{{if gt .Stories 1}}All {{.Stories}} stories{{else}}The story{{end}} and their timeline</a> · <a href="{{.URL}}.atom">feed</a></p>
</article>
{{end}}</div>
{{else}}<p>No active storylines yet.</p>
{{end}}{{if .Latest}}<section class="latest">
<h2>Latest stories</h2>
<ul>
{{range .Latest}}<li>{{template "story" .}}</li>
{{end}}</ul>
</section>
{{end}}{{end}}`))

var topicTemplate = template.Must(template.Must(pageTemplates.Clone()).Parse(`{{define "body"}}
<article class="topic">
<h1{{with .Topic.Lang}} lang="{{.}}"{{end}}>{{.Topic.Name}}</h1>
<p class="headline"{{with .Topic.Lang}} lang="{{.}}"{{end}}>{{.Topic.Headline}}</p>
<p class="meta">{{plural .Topic.Stories "story" "stories"}} from {{plural .Topic.NOutlets "outlet" "outlets"}}, <time datetime="{{iso .Topic.First}}">{{time .Topic.First}}</time> to <time datetime="{{iso .Topic.Last}}">{{time .Topic.Last}}</time> · Feed: <a href="{{.Topic.URL}}.atom">Atom</a>, <a href="{{.Topic.URL}}.rss">RSS</a>, <a href="{{.Topic.URL}}.json">JSON</a></p>
{{.Chart}}
<p class="outlets">{{range $i, $o := .Topic.Outlets}}{{if $i}} · {{end}}{{$o.Title}} ({{$o.Stories}}){{end}}</p>
<ol class="stories">
{{range .Stories}}<li>{{template "image" .Image}}<h2>{{template "story" .}}</h2>{{if .Snippet}}
<p{{with .Lang}} lang="{{.}}"{{end}}>{{.Snippet}}</p>{{end}}</li>
{{end}}</ol>
{{if .Hidden}}<p class="meta">The {{.Hidden}} oldest stories are in the storyline's <a href="{{.Topic.URL}}.atom?limit=500">feed</a>.</p>{{end}}
</article>{{end}}`))

var searchTemplate = template.Must(template.Must(pageTemplates.Clone()).Parse(`{{define "body"}}
<h1>{{if .Site.Query}}Stories matching “{{.Site.Query}}”{{else}}Search{{end}}</h1>
{{if .Site.Query}}{{if .Groups}}{{range .Groups}}<section class="group">
<h2>{{if .URL}}<a href="{{.URL}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}</h2>
<ul>
{{range .Stories}}<li>{{template "story" .}}</li>
{{end}}</ul>
</section>
{{end}}{{else}}<p>No story matches.</p>
{{end}}{{else}}<p>Type words to look for in the stories' headlines and text.</p>
{{end}}{{end}}`))

// site is what every page shows around its body.
type site struct {
	Title, Home, Style, Search, Query string
	Feeds                             []pageFeed // autodiscovery
	FeedLinks                         []pageFeed // the footer's
}

type pageFeed struct{ Title, Type, URL string }

// LinkTag is the feed's autodiscovery <link>, written by hand because
// html/template would escape the "+" of "application/atom+xml" as "&#43;",
// which is valid HTML but defeats autodiscovery code that matches strings.
func (f pageFeed) LinkTag() template.HTML {
	return template.HTML(`<link rel="alternate" type="` + html.EscapeString(f.Type) + `" title="` +
		html.EscapeString(f.Title) + `" href="` + html.EscapeString(f.URL) + `">`)
}

type pageImage struct{ URL, Alt string }

type pageStory struct {
	Title, Link, Outlet string
	// Lang is the story's language tag (pageLang), which tells the
	// browser to draw Chinese, Japanese and Korean in their own glyphs;
	// empty when unknown or English.
	Lang    string
	Time    time.Time
	Also    []pageStory
	Image   *pageImage
	Snippet string
}

type pageTopic struct {
	ID                  int64
	Name, Headline, URL string // URL is its page; its feeds add .atom, .rss, .json
	Stories, NOutlets   int    // articles (store.Topic.Stories), feeds
	First, Last         time.Time
	Lead                pageStory
	Image               *pageImage
	More                []pageStory
	Outlets             []store.OutletCount
	// Lang is the language of most of the stories shown, for the name
	// and headline (see commonLang).
	Lang string
}

// pageLang is the lang attribute of a story in lang: its tag, or nothing
// for English, the language the pages are written in (<html lang="en">).
func pageLang(lang string) string {
	tag := feeds.LanguageTag(lang)
	if tag == "en" || strings.HasPrefix(tag, "en-") {
		return ""
	}
	return tag
}

// commonLang returns the language tag more than half of the stories carry,
// or "": a storyline's name and headline are in its stories' language
// when they agree on one.
func commonLang(stories []pageStory) string {
	n := make(map[string]int)
	for _, ps := range stories {
		n[ps.Lang]++
	}
	for lang, c := range n {
		if lang != "" && 2*c > len(stories) {
			return lang
		}
	}
	return ""
}

func toPageStory(st story) pageStory {
	ps := pageStory{Title: entryTitle(st.Entry), Link: st.Entry.Link, Outlet: st.FeedTitle, Time: st.Entry.Published,
		Lang: pageLang(st.Entry.Language)}
	if st.Entry.Image != "" {
		ps.Image = &pageImage{URL: st.Entry.Image, Alt: ps.Title}
	}
	for _, a := range st.alsoNamed() {
		also := pageStory{Outlet: a.FeedTitle}
		if a.Entry.Link != st.Entry.Link {
			also.Link = a.Entry.Link
		}
		ps.Also = append(ps.Also, also)
	}
	return ps
}

// site is the frame of the pages of request r.
func (s *Server) site(r *http.Request, query string) site {
	l := s.links(r, "atom", params{limit: defaultLimit})
	st := site{Title: s.title, Home: l.base + "/", Style: l.base + "/style.css?v=" + styleVersion,
		Search: l.base + "/search", Query: query}
	for _, feed := range []struct{ name, path string }{{"all stories", "/feed"}, {"storylines", "/topics"}} {
		for _, f := range []struct{ name, ext, typ string }{
			{"Atom", "atom", "application/atom+xml"},
			{"RSS", "rss", "application/rss+xml"},
			{"JSON Feed", "json", "application/feed+json"},
		} {
			st.Feeds = append(st.Feeds, pageFeed{Title: s.title + ": " + feed.name + " (" + f.name + ")", Type: f.typ,
				URL: l.base + feed.path + "." + f.ext})
			st.FeedLinks = append(st.FeedLinks, pageFeed{Title: feed.name + " (" + f.name + ")", URL: l.base + feed.path + "." + f.ext})
		}
	}
	return st
}

// handleIndex renders the front page: the storylines that are big now,
// and the latest stories.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	s.cached(w, r, s.base(r)+"/", false, func() *rendered { return s.renderIndex(w, r) })
}

// renderIndex builds the front page, or answers with the error and returns
// nil.
func (s *Server) renderIndex(w http.ResponseWriter, r *http.Request) *rendered {
	ctx := r.Context()
	topics, err := s.rankedTopics(ctx)
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	l := s.links(r, "atom", params{limit: defaultLimit})
	d := struct {
		Site    site
		Heading string
		Topics  []pageTopic
		Latest  []pageStory
	}{Site: s.site(r, "")}
	ids := make([]int64, len(topics))
	for i, t := range topics {
		ids[i] = t.ID
	}
	outlets, err := s.store.TopicOutlets(ctx, ids)
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	for _, t := range topics {
		pt, err := s.frontTopic(ctx, newPageTopic(l, t, outlets[t.ID]))
		if err != nil {
			s.fail(w, r, err)
			return nil
		}
		d.Topics = append(d.Topics, pt)
	}
	latest, err := s.stories(ctx, params{limit: frontLatest}, 0)
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	for _, st := range latest {
		d.Latest = append(d.Latest, toPageStory(st))
	}
	return s.renderPage(w, r, frontTemplate, d)
}

// rankedTopics is the front page's storylines: the store's best
// candidates by size and recency, ranked again by rankScore now that their
// outlets are known, with their outlets.
func (s *Server) rankedTopics(ctx context.Context) ([]store.Topic, error) {
	ts, err := s.store.Topics(ctx, store.TopicQuery{Since: s.now().Add(-s.topicWindow), MinSize: s.minTopicSize, Limit: frontCandidates})
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	newest := ts[0].Last
	for _, t := range ts {
		if t.Last.After(newest) {
			newest = t.Last
		}
	}
	sort.SliceStable(ts, func(i, j int) bool { return rankScore(ts[i], newest) > rankScore(ts[j], newest) })
	return ts[:min(len(ts), frontTopics)], nil
}

// newPageTopic is what every page shows of a storyline.
func newPageTopic(l links, t store.Topic, outlets []store.OutletCount) pageTopic {
	return pageTopic{ID: t.ID, Name: feeds.StripMarkup(t.Name), Headline: feeds.StripMarkup(t.Headline),
		URL: l.topicPage(t.ID), Stories: t.Stories, NOutlets: t.Outlets, First: t.First, Last: t.Last, Outlets: outlets}
}

// frontTopic is one storyline of the front page: its lead (the story of
// its representative headline, else its latest), the lead's image or the
// first one among its stories, and further headlines.
func (s *Server) frontTopic(ctx context.Context, pt pageTopic) (pageTopic, error) {
	stories, err := s.stories(ctx, params{limit: 40}, pt.ID)
	if err != nil {
		return pt, err
	}
	if len(stories) == 0 {
		return pt, nil
	}
	lead := 0
	for i, st := range stories {
		if entryTitle(st.Entry) == pt.Headline {
			lead = i
			break
		}
	}
	pt.Lead = toPageStory(stories[lead])
	pt.Image = pt.Lead.Image
	for i, st := range stories {
		ps := toPageStory(st)
		if pt.Image == nil && ps.Image != nil {
			pt.Image = ps.Image
		}
		if i != lead && len(pt.More) < frontMore && ps.Title != pt.Lead.Title {
			pt.More = append(pt.More, ps)
		}
	}
	pt.Lang = commonLang(append([]pageStory{pt.Lead}, pt.More...))
	return pt, nil
}

// handleTopicPage renders a storyline's own page: every story with its
// outlet, time and first lines, and a chart of its coverage over time.
func (s *Server) handleTopicPage(w http.ResponseWriter, r *http.Request, id int64) {
	s.cached(w, r, s.base(r)+r.URL.Path, false, func() *rendered { return s.renderTopicPage(w, r, id) })
}

func (s *Server) renderTopicPage(w http.ResponseWriter, r *http.Request, id int64) *rendered {
	ctx := r.Context()
	t, err := s.store.Topic(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		to, err := s.store.TopicMovedTo(ctx, id)
		switch {
		case err == nil && to != 0:
			http.Redirect(w, r, s.base(r)+"/topics/"+strconv.FormatInt(to, 10), http.StatusMovedPermanently)
		case errors.Is(err, store.ErrGone):
			s.errorPage(w, r, http.StatusGone, fmt.Sprintf("Storyline %d has ended", id),
				"Its stories were removed, with their outlet's feed or as they grew old.")
		default:
			s.notFoundPage(w, r, fmt.Sprintf("No storyline %d", id),
				"The address may be mistyped, or the storyline may have ended long ago.")
		}
		return nil
	}
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	l := s.links(r, "atom", params{limit: defaultLimit})
	stories, err := s.stories(ctx, params{limit: topicPageMax}, id)
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	outlets, err := s.store.TopicOutlets(ctx, []int64{id})
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	pt := newPageTopic(l, t, outlets[id])
	d := struct {
		Site    site
		Heading string
		Topic   pageTopic
		Chart   template.HTML
		Stories []pageStory
		Hidden  int
	}{Site: s.site(r, ""), Heading: pt.Name, Topic: pt}
	var times []time.Time
	for _, st := range stories {
		ps := toPageStory(st)
		ps.Snippet = truncate(feeds.StripMarkup(st.Entry.Text), snippetRunes)
		d.Stories = append(d.Stories, ps)
		// One per story, copies folded, so that the chart's bars add up
		// to the number of stories the page says it has.
		times = append(times, st.Entry.Published)
	}
	d.Chart = coverageChart(times, s.loc)
	d.Topic.Lang = commonLang(d.Stories)
	if len(stories) == topicPageMax && t.Stories > len(stories) {
		d.Hidden = t.Stories - len(stories)
	}
	return s.renderPage(w, r, topicTemplate, d)
}

// handleSearch renders the stories matching ?q=, grouped by storyline.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	key := s.base(r) + "/search?q=" + q
	s.cached(w, r, key, q != "", func() *rendered { return s.renderSearch(w, r, q) })
}

func (s *Server) renderSearch(w http.ResponseWriter, r *http.Request, q string) *rendered {
	type group struct {
		Name, URL string
		Stories   []pageStory
	}
	d := struct {
		Site    site
		Heading string
		Groups  []*group
	}{Site: s.site(r, q), Heading: "Search"}
	if q != "" {
		d.Heading = q
		found, err := s.store.Search(r.Context(), q, searchPageMax)
		if err != nil && !isQueryError(err) {
			s.fail(w, r, err)
			return nil
		}
		l := s.links(r, "atom", params{limit: defaultLimit})
		byTopic := map[int64]*group{}
		for _, st := range fold(found) {
			g := byTopic[st.TopicID]
			if g == nil {
				g = &group{Name: "Stories of no storyline yet"}
				if st.TopicID != 0 {
					g.Name = feeds.StripMarkup(st.TopicName)
					g.URL = l.topicPage(st.TopicID)
				}
				byTopic[st.TopicID] = g
				d.Groups = append(d.Groups, g)
			}
			g.Stories = append(g.Stories, toPageStory(st))
		}
	}
	return s.renderPage(w, r, searchTemplate, d)
}

// isQueryError reports whether a search failed for its words (none left
// once the syntax is stripped), which the page answers with no hits.
func isQueryError(err error) bool {
	return strings.Contains(err.Error(), "no words in")
}

var notFoundTemplate = template.Must(template.Must(pageTemplates.Clone()).Parse(`{{define "body"}}
<h1>{{.Heading}}</h1>
<p>{{.Text}} The <a href="{{.Site.Home}}">front page</a> has the storylines of now.</p>
{{end}}`))

// notFoundPage answers 404 with a page of the site, which a person who
// followed an old link can go on from (a plain-text 404 is a dead end in a
// browser).
func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request, heading, text string) {
	s.errorPage(w, r, http.StatusNotFound, heading, text)
}

// errorPage is notFoundPage with another status: 410 for a storyline that
// has ended.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, text string) {
	var buf bytes.Buffer
	err := s.pages[notFoundTemplate].Execute(&buf, struct {
		Site          site
		Heading, Text string
	}{s.site(r, ""), heading, text})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, t *template.Template, data any) *rendered {
	var buf bytes.Buffer
	if err := s.pages[t].Execute(&buf, data); err != nil {
		s.fail(w, r, err)
		return nil
	}
	return newRendered("text/html; charset=utf-8", buf.Bytes())
}
