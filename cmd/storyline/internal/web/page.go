package web

import (
	"bytes"
	"html"
	"html/template"
	"net/http"
	"time"

	"github.com/storyline/storyline/feeds"
)

const (
	pageTopics       = 30
	pageTopicStories = 8
	pageLatest       = 20
)

// pageStyle is the page's only style sheet, inline so that the page is one
// request; the Content-Security-Policy allows it by its hash (see csp), so
// any change here changes the header with it.
const pageStyle = `
body{font:16px/1.45 system-ui,sans-serif;max-width:50rem;margin:0 auto;padding:1rem;color:#222}
h2{font-size:1.15rem;margin:1.6rem 0 .2rem}
.meta,.src{color:#666;font-size:.85rem}
ul{padding-left:1.2rem}li{margin:.25rem 0}
a{color:#0645ad}
`

// pageTemplate is the whole page: no external assets and no script, so it
// works in any browser and leaks nothing to third parties. html/template
// escapes every feed-supplied string and filters unsafe URLs in href.
var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"time": func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 15:04 MST") },
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{range .Feeds}}{{.LinkTag}}
{{end}}<style>` + pageStyle + `</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">Subscribe:
{{range $i, $f := .Feeds}}{{if $i}} · {{end}}<a href="{{$f.URL}}">{{$f.Title}}</a>{{end}}</p>
{{if .Topics}}<section>
{{range .Topics}}<article id="topic-{{.ID}}">
<h2>{{.Name}}</h2>
<p class="meta">{{.Headline}} — {{.Size}} stories from {{.Outlets}} outlets, latest <time datetime="{{iso .Last}}">{{time .Last}}</time> · <a href="{{.FeedURL}}">feed</a></p>
<ul>
{{range .Stories}}<li>{{template "story" .}}</li>
{{end}}</ul>
</article>
{{end}}</section>
{{else}}<p>No active storylines yet.</p>
{{end}}{{if .Latest}}<section>
<h2>Latest stories</h2>
<ul>
{{range .Latest}}<li>{{template "story" .}}</li>
{{end}}</ul>
</section>
{{end}}</body>
</html>
{{define "story"}}<a href="{{.Link}}">{{.Title}}</a> <span class="src">— {{.Outlet}}, <time datetime="{{iso .Time}}">{{time .Time}}</time>{{range .Also}}, also {{if .Link}}<a href="{{.Link}}">{{.Outlet}}</a>{{else}}{{.Outlet}}{{end}}{{end}}</span>{{end}}
`))

type pageData struct {
	Title  string
	Feeds  []pageFeed
	Topics []pageTopic
	Latest []pageStory
}

type pageFeed struct{ Title, Type, URL string }

// LinkTag is the feed's autodiscovery <link>, written by hand because
// html/template would escape the "+" of "application/atom+xml" as "&#43;",
// which is valid HTML but defeats autodiscovery code that matches strings.
func (f pageFeed) LinkTag() template.HTML {
	return template.HTML(`<link rel="alternate" type="` + html.EscapeString(f.Type) + `" title="` +
		html.EscapeString(f.Title) + `" href="` + html.EscapeString(f.URL) + `">`)
}

type pageTopic struct {
	ID             int64
	Name, Headline string
	Size, Outlets  int
	Last           time.Time
	FeedURL        string
	Stories        []pageStory
}

type pageStory struct {
	Title, Link, Outlet string
	Time                time.Time
	Also                []pageStory
}

func toPageStory(st story) pageStory {
	ps := pageStory{Title: entryTitle(st.Entry), Link: st.Entry.Link, Outlet: st.FeedTitle, Time: st.Entry.Published}
	for _, a := range st.also {
		also := pageStory{Outlet: a.FeedTitle}
		if a.Entry.Link != st.Entry.Link {
			also.Link = a.Entry.Link
		}
		ps.Also = append(ps.Also, also)
	}
	return ps
}

// handleIndex renders the page of active topics and the latest stories.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	s.cached(w, r, s.base(r)+"/", false, func() *rendered { return s.renderIndex(w, r) })
}

// renderIndex builds the page, or answers with the error and returns nil.
func (s *Server) renderIndex(w http.ResponseWriter, r *http.Request) *rendered {
	ctx := r.Context()
	l := s.links(r, "atom", params{limit: defaultLimit})
	digests, err := s.activeTopics(ctx, params{limit: pageTopics}, pageTopicStories)
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	latest, err := s.stories(ctx, params{limit: pageLatest}, 0)
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	d := pageData{Title: s.title}
	for _, feed := range []struct{ name, path string }{{"all stories", "/feed"}, {"storylines", "/topics"}} {
		for _, f := range []struct{ name, ext, typ string }{
			{"Atom", "atom", "application/atom+xml"},
			{"RSS", "rss", "application/rss+xml"},
			{"JSON Feed", "json", "application/feed+json"},
		} {
			d.Feeds = append(d.Feeds, pageFeed{Title: s.title + ": " + feed.name + " (" + f.name + ")", Type: f.typ,
				URL: l.base + feed.path + "." + f.ext})
		}
	}
	for _, t := range digests {
		pt := pageTopic{ID: t.ID, Name: feeds.StripMarkup(t.Name), Headline: feeds.StripMarkup(t.Headline), Size: t.Size, Outlets: t.Outlets,
			Last: t.Last, FeedURL: l.topicFeed(t.ID)}
		for _, st := range t.stories {
			pt.Stories = append(pt.Stories, toPageStory(st))
		}
		d.Topics = append(d.Topics, pt)
	}
	for _, st := range latest {
		d.Latest = append(d.Latest, toPageStory(st))
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		s.fail(w, r, err)
		return nil
	}
	return newRendered("text/html; charset=utf-8", buf.Bytes())
}
