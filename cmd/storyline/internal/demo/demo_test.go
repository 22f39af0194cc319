package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Minimal views of the three feed formats, just enough to check the corpus.

type rssDoc struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		Title    string `xml:"title"`
		Link     string `xml:"link"`
		Language string `xml:"language"`
		Items    []struct {
			Title       string   `xml:"title"`
			Link        string   `xml:"link"`
			Description string   `xml:"description"`
			GUID        string   `xml:"guid"`
			PubDate     string   `xml:"pubDate"`
			Author      string   `xml:"author"`
			Creator     string   `xml:"http://purl.org/dc/elements/1.1/ creator"`
			Categories  []string `xml:"category"`
		} `xml:"item"`
	} `xml:"channel"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

type atomDoc struct {
	XMLName xml.Name   `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string     `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Title   string     `xml:"title"`
	Links   []atomLink `xml:"link"`
	Entries []struct {
		Title     string     `xml:"title"`
		ID        string     `xml:"id"`
		Links     []atomLink `xml:"link"`
		Published string     `xml:"published"`
		Updated   string     `xml:"updated"`
		Summary   string     `xml:"summary"`
		Author    string     `xml:"author>name"`
		Category  []struct {
			Term string `xml:"term,attr"`
		} `xml:"category"`
	} `xml:"entry"`
}

type jsonFeed struct {
	Version     string `json:"version"`
	Title       string `json:"title"`
	HomePageURL string `json:"home_page_url"`
	Language    string `json:"language"`
	Items       []struct {
		ID            string `json:"id"`
		URL           string `json:"url"`
		Title         string `json:"title"`
		ContentText   string `json:"content_text"`
		DatePublished string `json:"date_published"`
		Authors       []struct {
			Name string `json:"name"`
		} `json:"authors"`
		Tags []string `json:"tags"`
	} `json:"items"`
}

// feed is a parsed demo feed in a format-neutral shape.
type feed struct {
	file     string
	format   string // "rss", "atom" or "json"
	title    string
	home     string
	language string
	items    []item
}

type item struct {
	id, title, link, summary, author string
	categories                       int
	date                             time.Time
	rawDate                          string
}

var (
	windowStart = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	windowEnd   = time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)
	htmlTag     = regexp.MustCompile(`<[^>]+>`)
	// A sentence ends with . ! or ?, possibly followed by a closing quote,
	// then whitespace and a capital letter or an opening quote.
	sentenceBreak = regexp.MustCompile(`[.!?]['"]?\s+['"A-Z]`)
)

// parseRSSDate parses an RSS pubDate and checks that it is canonical, which
// also catches a wrong day of the week.
func parseRSSDate(t *testing.T, s string) time.Time {
	t.Helper()
	for _, layout := range []string{time.RFC1123Z, time.RFC1123} {
		if d, err := time.Parse(layout, s); err == nil {
			if got := d.Format(layout); got != s {
				t.Errorf("pubDate %q is not canonical (want %q)", s, got)
			}
			return d
		}
	}
	t.Errorf("bad pubDate %q", s)
	return time.Time{}
}

func parseRFC3339(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Errorf("bad date %q: %v", s, err)
	}
	return d
}

func parseFeed(t *testing.T, name string, data []byte) feed {
	t.Helper()
	f := feed{file: name}
	switch path.Ext(name) {
	case ".json":
		var doc jsonFeed
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc.Version != "https://jsonfeed.org/version/1.1" {
			t.Errorf("%s: version %q", name, doc.Version)
		}
		f.format, f.title, f.home, f.language = "json", doc.Title, doc.HomePageURL, doc.Language
		for _, it := range doc.Items {
			var author string
			if len(it.Authors) > 0 {
				author = it.Authors[0].Name
			}
			f.items = append(f.items, item{
				id: it.ID, title: it.Title, link: it.URL, summary: it.ContentText,
				author: author, categories: len(it.Tags),
				date: parseRFC3339(t, it.DatePublished), rawDate: it.DatePublished,
			})
		}
	case ".xml":
		var root struct{ XMLName xml.Name }
		if err := xml.Unmarshal(data, &root); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch root.XMLName.Local {
		case "rss":
			var doc rssDoc
			if err := xml.Unmarshal(data, &doc); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if doc.Version != "2.0" {
				t.Errorf("%s: RSS version %q", name, doc.Version)
			}
			c := doc.Channel
			f.format, f.title, f.home, f.language = "rss", c.Title, c.Link, c.Language
			for _, it := range c.Items {
				author := it.Creator
				if author == "" {
					author = it.Author
				}
				f.items = append(f.items, item{
					id: it.GUID, title: it.Title, link: it.Link,
					summary: htmlTag.ReplaceAllString(it.Description, ""),
					author:  author, categories: len(it.Categories),
					date: parseRSSDate(t, it.PubDate), rawDate: it.PubDate,
				})
			}
		case "feed":
			var doc atomDoc
			if err := xml.Unmarshal(data, &doc); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			f.format, f.title, f.language = "atom", doc.Title, doc.Lang
			for _, l := range doc.Links {
				if l.Rel == "alternate" {
					f.home = l.Href
				}
			}
			for _, e := range doc.Entries {
				var link string
				for _, l := range e.Links {
					if l.Rel == "" || l.Rel == "alternate" {
						link = l.Href
					}
				}
				d := parseRFC3339(t, e.Published)
				if u := parseRFC3339(t, e.Updated); u.Before(d) {
					t.Errorf("%s: entry %s updated before published", name, e.ID)
				}
				f.items = append(f.items, item{
					id: e.ID, title: e.Title, link: link, summary: e.Summary,
					author: e.Author, categories: len(e.Category),
					date: d, rawDate: e.Published,
				})
			}
		default:
			t.Fatalf("%s: unexpected root element %q", name, root.XMLName.Local)
		}
	default:
		t.Fatalf("unexpected file %s", name)
	}
	return f
}

// loadCorpus parses every embedded feed.
func loadCorpus(t *testing.T) []feed {
	t.Helper()
	entries, err := fs.ReadDir(Files(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var feeds []feed
	for _, e := range entries {
		data, err := fs.ReadFile(Files(), e.Name())
		if err != nil {
			t.Fatal(err)
		}
		feeds = append(feeds, parseFeed(t, e.Name(), data))
	}
	return feeds
}

func TestCorpus(t *testing.T) {
	feeds := loadCorpus(t)
	formats := map[string]int{}
	ids := map[string]string{}
	links := map[string]string{}
	titles := map[string]string{}
	hosts := map[string]string{}
	for _, f := range feeds {
		formats[f.format]++
		if f.title == "" {
			t.Errorf("%s: no feed title", f.file)
		}
		if f.language != "en" {
			t.Errorf("%s: language %q, want en", f.file, f.language)
		}
		home, err := url.Parse(f.home)
		if err != nil || home.Scheme != "https" || !strings.HasSuffix(home.Host, ".example") {
			t.Errorf("%s: home page %q is not an https .example URL", f.file, f.home)
			continue
		}
		if other, dup := hosts[home.Host]; dup {
			t.Errorf("%s and %s share the domain %s", f.file, other, home.Host)
		}
		hosts[home.Host] = f.file
		if n := len(f.items); n < 10 || n > 16 {
			t.Errorf("%s: %d items, want 10-16", f.file, n)
		}
		for _, it := range f.items {
			where := f.file + ": " + it.id
			if it.id == "" || it.title == "" || it.link == "" || it.author == "" || it.rawDate == "" {
				t.Errorf("%s: missing id, title, link, author or date: %+v", where, it)
			}
			if it.categories < 1 {
				t.Errorf("%s: no category", where)
			}
			if prev, dup := ids[it.id]; dup {
				t.Errorf("%s: id also used in %s", where, prev)
			}
			ids[it.id] = f.file
			if prev, dup := links[it.link]; dup {
				t.Errorf("%s: link %s also used in %s", where, it.link, prev)
			}
			links[it.link] = f.file
			if prev, dup := titles[it.title]; dup {
				t.Errorf("%s: title %q also used in %s", where, it.title, prev)
			}
			titles[it.title] = f.file
			u, err := url.Parse(it.link)
			if err != nil || !u.IsAbs() || u.Host != home.Host || len(u.Path) < 2 {
				t.Errorf("%s: link %q is not an article URL on %s", where, it.link, home.Host)
			}
			if it.date.Before(windowStart) || it.date.After(windowEnd) {
				t.Errorf("%s: date %s outside %s..%s", where, it.rawDate, windowStart, windowEnd)
			}
			if n := len(sentenceBreak.FindAllString(it.summary, -1)) + 1; n < 2 || n > 5 {
				t.Errorf("%s: summary has %d sentences, want 2-5: %q", where, n, it.summary)
			}
		}
	}
	if want := map[string]int{"rss": 2, "atom": 2, "json": 1}; !maps.Equal(formats, want) {
		t.Errorf("formats = %v, want %v", formats, want)
	}
}

func TestLabels(t *testing.T) {
	items := map[[2]string]bool{} // {file, id} of every item in the corpus
	for _, f := range loadCorpus(t) {
		for _, it := range f.items {
			items[[2]string{f.file, it.id}] = true
		}
	}

	fh, err := os.Open("testdata/LABELS.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	seen := map[[2]string]bool{}
	outlets := map[string]map[string]bool{} // storyline -> files
	count := map[string]int{}
	valid := []string{"geneva", "e3", "strikes", "sport", "tech", "weather", "none"}
	sc := bufio.NewScanner(fh)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			t.Errorf("LABELS.tsv:%d: %d fields, want 3", line, len(fields))
			continue
		}
		key, story := [2]string{fields[0], fields[1]}, fields[2]
		if !slices.Contains(valid, story) {
			t.Errorf("LABELS.tsv:%d: unknown storyline %q", line, story)
		}
		if !items[key] {
			t.Errorf("LABELS.tsv:%d: no item %s in %s", line, key[1], key[0])
		}
		if seen[key] {
			t.Errorf("LABELS.tsv:%d: item %s in %s listed twice", line, key[1], key[0])
		}
		seen[key] = true
		count[story]++
		if outlets[story] == nil {
			outlets[story] = map[string]bool{}
		}
		outlets[story][key[0]] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for key := range items {
		if !seen[key] {
			t.Errorf("LABELS.tsv: item %s in %s not listed", key[1], key[0])
		}
	}
	for _, story := range valid[:6] {
		if n := len(outlets[story]); n < 3 {
			t.Errorf("storyline %s is reported by %d outlets, want >= 3", story, n)
		}
	}
	if n := count["none"]; n < 5 || n > 8 {
		t.Errorf("%d one-off items, want 5-8", n)
	}
	t.Logf("items per storyline: %v", count)
}

func TestServer(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	urls := s.URLs()
	if len(urls) != 5 || !slices.IsSorted(urls) {
		t.Fatalf("URLs() = %v, want 5 sorted URLs", urls)
	}
	wantType := map[string]string{
		"northgate-herald.xml":     "application/rss+xml; charset=utf-8",
		"meridian-wire.xml":        "application/rss+xml; charset=utf-8",
		"harbourline-post.xml":     "application/atom+xml; charset=utf-8",
		"continental-dispatch.xml": "application/atom+xml; charset=utf-8",
		"lantern-report.json":      "application/feed+json; charset=utf-8",
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(u string, hdr ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, u := range urls {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "http" || pu.Hostname() != "127.0.0.1" || pu.Port() == "" {
			t.Errorf("URL %q is not http://127.0.0.1:port/...", u)
			continue
		}
		name := path.Base(pu.Path)
		want, err := fs.ReadFile(Files(), name)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}

		resp := get(u)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", u, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != wantType[name] {
			t.Errorf("GET %s: Content-Type %q, want %q", u, ct, wantType[name])
		}
		if !bytes.Equal(body, want) {
			t.Errorf("GET %s: body differs from embedded file", u)
		}
		etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if etag == "" || lastMod == "" {
			t.Errorf("GET %s: ETag %q, Last-Modified %q", u, etag, lastMod)
			continue
		}

		for _, hdr := range [][]string{{"If-None-Match", etag}, {"If-Modified-Since", lastMod}} {
			resp := get(u, hdr...)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("GET %s with %s: status %d, %d bytes; want 304, empty", u, hdr[0], resp.StatusCode, len(body))
			}
		}
		resp = get(u, "If-None-Match", `"stale"`)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with a stale ETag: status %d, want 200", u, resp.StatusCode)
		}
	}

	base := strings.TrimSuffix(urls[0], path.Base(urls[0]))
	resp := get(base + "no-such-feed.xml")
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: status %d, want 404", resp.StatusCode)
	}
	resp = get(base)
	index, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.Fields(string(index)); !slices.Equal(got, urls) {
		t.Errorf("index = %q, want the feed URLs", index)
	}
	presp, err := client.Post(urls[0], "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	presp.Body.Close()
	if presp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", presp.StatusCode)
	}

	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := client.Get(urls[0]); err == nil {
		t.Error("server still answering after Close")
	}
}

func TestStartLiveShiftsDates(t *testing.T) {
	now := Newest.Add(40*24*time.Hour + 3*time.Hour + 17*time.Minute)
	srv, err := StartLive(now)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	newest := time.Time{}
	for _, u := range srv.URLs() {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, m := range rfc3339Date.FindAll(body, -1) {
			if tm, err := time.Parse(time.RFC3339, string(m)); err == nil && tm.After(newest) {
				newest = tm
			}
		}
		for _, m := range rfc1123Date.FindAll(body, -1) {
			for _, layout := range []string{time.RFC1123Z, time.RFC1123} {
				if tm, err := time.Parse(layout, string(m)); err == nil && tm.After(newest) {
					newest = tm
				}
			}
		}
	}
	if want := now.Truncate(time.Minute); !newest.Equal(want) {
		t.Errorf("newest date served = %v, want %v", newest, want)
	}
	// 40 days on, Tuesday 24 November is Sunday 3 January: every day a
	// text names moves with the dates.
	if got := shiftWeekdays([]byte("on Tuesday, Wednesday's"), 40); string(got) != "on Sunday, Monday's" {
		t.Errorf("weekdays 40 days on: %q", got)
	}
	k := daysMoved(now.Truncate(time.Minute).Sub(Newest))
	days := []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	named := 0
	for _, u := range srv.URLs() {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		served, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		orig, err := fs.ReadFile(Files(), path.Base(u))
		if err != nil {
			t.Fatal(err)
		}
		for d, name := range days {
			n := len(regexp.MustCompile(`\b`+name+`\b`).FindAll(orig, -1))
			named += n
			if m := len(regexp.MustCompile(`\b`+days[(d+k)%7]+`\b`).FindAll(served, -1)); m != n {
				t.Errorf("%s: %d %s in the corpus, %d %s served %d days on", path.Base(u), n, name, m, days[(d+k)%7], k)
			}
		}
	}
	if named == 0 {
		t.Error("the corpus names no weekday: the test checks nothing")
	}
}

func TestNewestMatchesCorpus(t *testing.T) {
	// Newest must be the corpus's real newest date, or StartLive would put
	// stories in the future.
	newest := time.Time{}
	for _, f := range mustLoad(t) {
		for _, m := range rfc3339Date.FindAll(f.data, -1) {
			if tm, err := time.Parse(time.RFC3339, string(m)); err == nil && tm.After(newest) {
				newest = tm
			}
		}
		for _, m := range rfc1123Date.FindAll(f.data, -1) {
			for _, layout := range []string{time.RFC1123Z, time.RFC1123} {
				if tm, err := time.Parse(layout, string(m)); err == nil && tm.After(newest) {
					newest = tm
				}
			}
		}
	}
	if !newest.Equal(Newest) {
		t.Errorf("corpus newest date %v, Newest = %v", newest, Newest)
	}
}

func mustLoad(t *testing.T) []feedFile {
	t.Helper()
	fs, err := loadFiles(0)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestImagesServed: the pictures the demo items point at are served, as an
// outlet serves its own, and nothing else under /images/ is (no way out of
// the directory).
func TestImagesServed(t *testing.T) {
	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := srv.URLs()[0][:strings.LastIndex(srv.URLs()[0], "/")+1]
	for path, want := range map[string]int{"images/storm.svg": 200, "images/nope.svg": 404, "images/../northgate-herald.xml": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
		if want == 200 && strings.HasPrefix(path, "images/storm") && resp.Header.Get("Content-Type") != "image/svg+xml" {
			t.Errorf("GET %s: Content-Type %q", path, resp.Header.Get("Content-Type"))
		}
	}
}
