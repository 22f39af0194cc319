package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

// t0 is "now" for the store and the server: the stories below happen in
// the ten hours before it.
var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const (
	sharedLink   = "https://wire.example/bridge-collision"
	hostileTitle = `<script>alert("x")</script> Harbour bridge & ferry <b>chaos</b>`
)

// fixture is a store with three outlets and two storylines (a bridge
// collision, a chess final), one article carried by two outlets, and one
// hostile headline.
type fixture struct {
	db      *sqlite.DB
	path    string // of the database file
	feedIDs []int64
	srv     *Server
	ingest  *ingest.Pipeline
}

type fakeEntry struct {
	feed  int
	id    string
	link  string
	title string
	hours float64 // before t0
}

var fixtureEntries = []fakeEntry{
	{0, "a1", "https://herald.example/bridge-1", "Harbour bridge closed after cargo ship collision", 10},
	{1, "b1", sharedLink, "Cargo ship strikes harbour bridge, span closed to traffic", 9},
	{2, "c1", sharedLink + "?utm_source=rss", "Cargo ship strikes harbour bridge, span closed to traffic", 8.5},
	{2, "c2", "https://lantern.example/bridge-2", hostileTitle, 8},
	{0, "a2", "https://herald.example/chess-1", "Valdoria wins national chess championship final", 7},
	{1, "b2", "https://wire.example/chess-2", "Chess final: Valdoria takes the national chess title", 6},
	{0, "a3", "https://herald.example/bridge-3", "Engineers inspect harbour bridge after ship collision", 5},
	{2, "c3", "https://lantern.example/chess-3", "Teenager Valdoria crowned national chess champion", 3},
	{1, "b3", "https://wire.example/bridge-4", "Harbour bridge to stay closed for weeks after ship collision", 1},
}

// fixtureImage is the picture of the first story (the others have none).
const fixtureImage = "https://img.herald.example/bridge-1.jpg"

var outletTitles = []string{"Northgate Herald", "Meridian Wire", "Lantern & <Report>"}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "web.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return t0 }
	f := &fixture{db: db, path: path, ingest: ingest.New(db, cluster.DefaultConfig())}
	for i := range outletTitles {
		fd, err := db.AddFeed(ctx, store.NewFeed{URL: fmt.Sprintf("https://outlet%d.example/feed", i)})
		if err != nil {
			t.Fatal(err)
		}
		f.feedIDs = append(f.feedIDs, fd.ID)
	}
	// Save in time order, one poll per story, as the poller would.
	docs := make([][]feeds.Entry, len(outletTitles))
	for _, fe := range fixtureEntries {
		pub := t0.Add(-time.Duration(fe.hours * float64(time.Hour)))
		var image string
		if fe.id == "a1" {
			image = fixtureImage
		}
		docs[fe.feed] = append(docs[fe.feed], feeds.Entry{
			ID: fe.id, Link: feeds.CanonicalLink(fe.link, ""), Title: fe.title, Image: image,
			Summary:   "<p>" + strings.ReplaceAll(fe.title, "<", "&lt;") + ". More details later.</p>",
			Text:      feeds.PlainText(fe.title) + ". More details are expected later today.",
			Published: pub,
		})
		if _, err := f.ingest.SavePoll(ctx, store.PollResult{FeedID: f.feedIDs[fe.feed], PolledAt: pub, Status: 200,
			Title: outletTitles[fe.feed], Entries: docs[fe.feed]}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ingest.ClusterPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f.srv = New(Options{Store: db, BaseURL: "https://storyline.example", Now: func() time.Time { return t0 },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return f
}

func (f *fixture) get(t testing.TB, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

// parse reads a feed response back with our own parser, as a subscriber's
// reader would.
func parse(t *testing.T, rec *httptest.ResponseRecorder) *feeds.Feed {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	pf, err := feeds.Parse(rec.Body.Bytes(), "https://storyline.example/", t0)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, rec.Body)
	}
	return pf
}

func TestMergedFeed(t *testing.T) {
	f := newFixture(t)
	distinct := len(fixtureEntries) - 1 // the shared link counts once
	for _, tc := range []struct{ path, ctype string }{
		{"/feed.atom", "application/atom+xml; charset=utf-8"},
		{"/feed.rss", "application/rss+xml; charset=utf-8"},
		{"/feed.json", "application/feed+json; charset=utf-8"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := f.get(t, tc.path)
			if got := rec.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tc.ctype)
			}
			body := rec.Body.String()
			pf := parse(t, rec)
			if len(pf.Entries) != distinct {
				t.Fatalf("%d entries, want %d", len(pf.Entries), distinct)
			}
			shared := 0
			for i, e := range pf.Entries {
				if i > 0 && e.Published.After(pf.Entries[i-1].Published) {
					t.Errorf("entry %d is newer than entry %d: not newest first", i, i-1)
				}
				if e.Link == sharedLink {
					shared++
					if !strings.Contains(e.Content+e.Summary, "Also reported by") {
						t.Errorf("folded entry does not mention the other outlet: %q", e.Content+e.Summary)
					}
				}
				if len(e.Categories) == 0 {
					t.Errorf("entry %q has no topic category", e.Title)
				}
			}
			if shared != 1 {
				t.Errorf("shared link appears %d times, want 1", shared)
			}
			// The earliest copy is kept: Meridian Wire had it first.
			if !strings.Contains(body, "Meridian Wire") {
				t.Error("outlet name missing")
			}
			if strings.Contains(body, "<script") {
				t.Error("raw <script in feed")
			}
			if tc.path != "/feed.json" && !strings.Contains(body, "https://storyline.example/topics/") {
				t.Error("no link to a topic feed")
			}
		})
	}
	t.Run("atom details", func(t *testing.T) {
		body := f.get(t, "/feed.atom").Body.String()
		for _, want := range []string{
			`<link rel="self" type="application/atom+xml" href="https://storyline.example/feed.atom"/>`,
			`<link rel="related" type="application/atom+xml" href="https://storyline.example/topics/`,
			`<source>`, `<title type="text">Lantern &amp; &lt;Report&gt;</title>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("Atom lacks %s", want)
			}
		}
	})
	t.Run("rss details", func(t *testing.T) {
		body := f.get(t, "/feed.rss").Body.String()
		for _, want := range []string{
			`<atom:link rel="self" type="application/rss+xml" href="https://storyline.example/feed.rss"/>`,
			`<category domain="https://storyline.example/topics/`, `<source url="https://outlet1.example/feed">Meridian Wire</source>`,
			`<lastBuildDate>Thu, 26 Nov 2026 11:00:00 +0000</lastBuildDate>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("RSS lacks %s", want)
			}
		}
	})
	t.Run("json details", func(t *testing.T) {
		var doc struct {
			Version, Title, HomePageURL, FeedURL string
			Items                                []struct {
				ID            *string
				URL, Title    string
				ContentHTML   *string `json:"content_html"`
				DatePublished string  `json:"date_published"`
				DateModified  string  `json:"date_modified"`
				Authors       []struct{ Name string }
				Tags          []string
				Storyline     struct {
					Outlet struct{ Title, FeedURL string }
					Topic  *struct {
						ID      int64
						Name    string
						FeedURL string `json:"feed_url"`
					}
					AlsoIn []struct{ Title, URL string } `json:"also_in"`
				} `json:"_storyline"`
			}
		}
		rec := f.get(t, "/feed.json")
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Version != feeds.JSONFeedVersion || doc.Title == "" {
			t.Errorf("feed header: %+v", doc)
		}
		also := 0
		for _, it := range doc.Items {
			if it.ID == nil || *it.ID == "" || it.URL == "" || it.ContentHTML == nil || it.DatePublished == "" ||
				it.DateModified == "" || len(it.Authors) == 0 || len(it.Tags) == 0 {
				t.Errorf("item lacks a required field: %+v", it)
			}
			if it.Storyline.Topic == nil || !strings.HasSuffix(it.Storyline.Topic.FeedURL, ".json") || it.Tags[0] != it.Storyline.Topic.Name {
				t.Errorf("item %q topic = %+v, tags %v", it.Title, it.Storyline.Topic, it.Tags)
			}
			if len(it.Storyline.AlsoIn) > 0 {
				also++
				if it.URL != sharedLink || it.Storyline.AlsoIn[0].Title != outletTitles[2] {
					t.Errorf("also_in on %q: %+v", it.URL, it.Storyline.AlsoIn)
				}
			}
		}
		if also != 1 {
			t.Errorf("%d items with also_in, want 1", also)
		}
	})
}

// TestTitlesCarryNoMarkup reads the merged feed as a reader would, XML or
// JSON decoded (and Atom's HTML titles unescaped), and finds no markup in
// any title: the hostile headline was stored with its tags, as databases
// filled before ingest stripped them were.
func TestTitlesCarryNoMarkup(t *testing.T) {
	f := newFixture(t)
	const want = "Harbour bridge & ferry chaos"
	titles := map[string][]string{}
	var rss struct {
		Items []struct {
			Title string `xml:"title"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(f.get(t, "/feed.rss").Body.Bytes(), &rss); err != nil {
		t.Fatal(err)
	}
	for _, it := range rss.Items {
		titles["rss"] = append(titles["rss"], it.Title)
	}
	var atom struct {
		Entries []struct {
			Title string `xml:"title"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(f.get(t, "/feed.atom").Body.Bytes(), &atom); err != nil {
		t.Fatal(err)
	}
	for _, e := range atom.Entries {
		titles["atom"] = append(titles["atom"], html.UnescapeString(e.Title))
	}
	var jf struct{ Items []struct{ Title string } }
	if err := json.Unmarshal(f.get(t, "/feed.json").Body.Bytes(), &jf); err != nil {
		t.Fatal(err)
	}
	for _, it := range jf.Items {
		titles["json"] = append(titles["json"], it.Title)
	}
	for format, ts := range titles {
		if len(ts) == 0 {
			t.Errorf("%s: no titles", format)
		}
		if !slices.Contains(ts, want) {
			t.Errorf("%s: no title %q in %q", format, want, ts)
		}
		for _, title := range ts {
			if strings.Contains(title, "<script") || strings.Contains(title, "<b>") || strings.Contains(title, "alert") {
				t.Errorf("%s: title %q carries markup", format, title)
			}
		}
	}
}

// topicIDs returns the ids of the fixture's topics with more than one story.
func topicIDs(t *testing.T, f *fixture) []store.Topic {
	t.Helper()
	ts, err := f.db.Topics(context.Background(), store.TopicQuery{MinSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) < 2 {
		t.Fatalf("fixture clustered into %d topics of 2+ stories, want 2: %+v", len(ts), ts)
	}
	return ts
}

func TestTopicsFeed(t *testing.T) {
	f := newFixture(t)
	topics := topicIDs(t, f)
	for _, ext := range []string{"atom", "rss", "json"} {
		t.Run(ext, func(t *testing.T) {
			pf := parse(t, f.get(t, "/topics."+ext))
			if len(pf.Entries) != len(topics) {
				t.Fatalf("%d entries, want one per topic (%d)", len(pf.Entries), len(topics))
			}
			for i, e := range pf.Entries {
				tp := topics[i]
				if e.Title != tp.Name {
					t.Errorf("entry %d title %q, want topic name %q", i, e.Title, tp.Name)
				}
				if want := fmt.Sprintf("tag:storyline.example,2026:topic/%d", tp.ID); e.ID != want {
					t.Errorf("entry %d id %q, want %q", i, e.ID, want)
				}
				if ext == "atom" && !e.Updated.Equal(tp.Last) {
					t.Errorf("entry %d updated %v, want the topic's last story %v", i, e.Updated, tp.Last)
				}
				if !strings.Contains(e.Content+e.Summary, "<li>") || !strings.Contains(e.Content+e.Summary, tp.Headline) {
					t.Errorf("entry %d content lacks the headline or the story list: %q", i, e.Content+e.Summary)
				}
			}
		})
	}
	// A window that ends before the stories leaves no active topic.
	if pf := parse(t, f.get(t, "/topics.atom?since=30m")); len(pf.Entries) != 0 {
		t.Errorf("since=30m: %d topics, want 0", len(pf.Entries))
	}
	if pf := parse(t, f.get(t, "/topics.atom?q=chess")); len(pf.Entries) != 1 {
		t.Errorf("q=chess: %d topics, want 1", len(pf.Entries))
	}
	if pf := parse(t, f.get(t, "/topics.atom?limit=1")); len(pf.Entries) != 1 {
		t.Errorf("limit=1: %d topics, want 1", len(pf.Entries))
	}
}

func TestTopicFeed(t *testing.T) {
	f := newFixture(t)
	topics := topicIDs(t, f)
	for _, tp := range topics {
		es, err := f.db.Entries(context.Background(), store.EntryQuery{TopicID: tp.ID})
		if err != nil {
			t.Fatal(err)
		}
		links := map[string]bool{}
		for _, e := range es {
			links[e.Entry.Link] = true
		}
		for _, ext := range []string{"atom", "rss", "json"} {
			pf := parse(t, f.get(t, fmt.Sprintf("/topics/%d.%s", tp.ID, ext)))
			if len(pf.Entries) != len(links) {
				t.Errorf("topic %d.%s: %d entries, want %d", tp.ID, ext, len(pf.Entries), len(links))
			}
			for _, e := range pf.Entries {
				if !links[e.Link] {
					t.Errorf("topic %d.%s: entry %q is not in the topic", tp.ID, ext, e.Link)
				}
			}
		}
	}
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/topics/99999.atom", 404},
		{"/topics/abc.atom", 400},
		{"/topics/-1.rss", 400},
		{"/topics/1.xml", 404},
		{"/topics/99999", 404},
		{fmt.Sprintf("/topics/%d", topics[0].ID), 200}, // its page
		{fmt.Sprintf("/topics/%d.atom?limit=x", topics[0].ID), 400},
	} {
		if rec := f.get(t, tc.path); rec.Code != tc.code {
			t.Errorf("%s: status %d, want %d (%s)", tc.path, rec.Code, tc.code, rec.Body)
		}
	}
	// A storyline that is gone has a page of the site, with the way home.
	rec := f.get(t, "/topics/99999")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") ||
		!strings.Contains(rec.Body.String(), "No storyline 99999") || !strings.Contains(rec.Body.String(), `href="https://storyline.example/"`) {
		t.Errorf("/topics/99999: %s\n%s", ct, rec.Body)
	}
	// So does a page address that names no storyline at all.
	for _, path := range []string{"/topics/0", "/topics/-1", "/topics/abc"} {
		rec := f.get(t, path)
		if ct := rec.Header().Get("Content-Type"); rec.Code != 404 || !strings.HasPrefix(ct, "text/html") ||
			!strings.Contains(rec.Body.String(), "No such storyline") {
			t.Errorf("%s: %d %s\n%s", path, rec.Code, ct, rec.Body)
		}
	}
}

func TestFeedParams(t *testing.T) {
	f := newFixture(t)
	count := func(target string) int {
		t.Helper()
		return len(parse(t, f.get(t, target)).Entries)
	}
	tests := []struct {
		target string
		want   int
	}{
		{"/feed.atom?limit=2", 2},
		{"/feed.atom?limit=100000", 8},
		{"/feed.atom?since=2h", 1},
		{"/feed.atom?since=5h30m", 3},
		{"/feed.atom?since=1d", 8},
		{"/feed.atom?since=2w", 8},
		{"/feed.rss?q=chess", 3},
		{"/feed.json?q=chess&since=4h", 1},
		{"/feed.atom?q=valdoria&limit=1", 1},
		{fmt.Sprintf("/feed.atom?feed=%d", f.feedIDs[0]), 3},
		{fmt.Sprintf("/feed.atom?feed=%d&since=6h", f.feedIDs[0]), 1},
	}
	for _, tc := range tests {
		if got := count(tc.target); got != tc.want {
			t.Errorf("%s: %d entries, want %d", tc.target, got, tc.want)
		}
	}
	// A feed that is not (or no longer) subscribed is not found, in every
	// view that filters by it.
	for _, target := range []string{"/feed.atom?feed=424242", "/topics.rss?feed=424242", "/topics/1.json?feed=424242"} {
		rec := f.get(t, target)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "no feed 424242") {
			t.Errorf("%s: status %d %q, want 404 naming the feed", target, rec.Code, rec.Body.String())
		}
	}
	// An empty feed is dated by the data, not by 1970.
	for _, target := range []string{"/feed.atom?q=zzyzx", "/feed.rss?q=zzyzx", "/feed.json?q=zzyzx"} {
		if body := f.get(t, target).Body.String(); strings.Contains(body, "1970") {
			t.Errorf("%s: an empty feed dated 1970:\n%s", target, body)
		}
	}
	// The feed's id and self link keep the period as a person writes it.
	if body := f.get(t, "/feed.atom?since=1d").Body.String(); !strings.Contains(body, "since=1d") || strings.Contains(body, "24h0m0s") {
		t.Errorf("since=1d: the feed's links do not say since=1d:\n%s", body[:min(len(body), 600)])
	}
	for _, target := range []string{
		"/feed.atom?limit=0", "/feed.atom?limit=-3", "/feed.atom?limit=ten", "/feed.rss?since=yesterday",
		"/feed.rss?since=-1h", "/feed.json?feed=abc", "/feed.json?feed=0", "/feed.atom?q=%22%22%21",
		"/topics.atom?since=1x",
	} {
		rec := f.get(t, target)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", target, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q, want a plain message", target, ct)
		}
	}
}

func TestConditionalGET(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/feed.atom", "/feed.rss", "/feed.json", "/topics.atom", "/"} {
		t.Run(path, func(t *testing.T) {
			first := f.get(t, path)
			etag, lm := first.Header().Get("ETag"), first.Header().Get("Last-Modified")
			if !strings.HasPrefix(etag, `"`) || lm == "" {
				t.Fatalf("ETag %q, Last-Modified %q", etag, lm)
			}
			if cc := first.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age") {
				t.Errorf("Cache-Control %q", cc)
			}
			if again := f.get(t, path); again.Header().Get("ETag") != etag || again.Body.String() != first.Body.String() {
				t.Error("the same request gave a different body or ETag")
			}
			for _, h := range [][]string{
				{"If-None-Match", etag},
				{"If-None-Match", `"other", ` + etag},
				{"If-None-Match", "W/" + etag},
				{"If-Modified-Since", lm},
				{"If-Modified-Since", t0.Add(time.Hour).Format(http.TimeFormat)},
				{"If-None-Match", etag, "Accept-Encoding", "gzip"},
			} {
				rec := f.get(t, path, h...)
				if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
					t.Errorf("%v: status %d, %d body bytes; want 304 and none", h, rec.Code, rec.Body.Len())
				}
				if rec.Header().Get("Content-Encoding") != "" {
					t.Errorf("%v: 304 has Content-Encoding %q", h, rec.Header().Get("Content-Encoding"))
				}
			}
			for _, h := range [][]string{
				{"If-None-Match", `"stale"`},
				{"If-Modified-Since", t0.Add(-48 * time.Hour).Format(http.TimeFormat)},
				// If-None-Match wins over a matching If-Modified-Since.
				{"If-None-Match", `"stale"`, "If-Modified-Since", lm},
			} {
				if rec := f.get(t, path, h...); rec.Code != http.StatusOK {
					t.Errorf("%v: status %d, want 200", h, rec.Code)
				}
			}
		})
	}
	// A different query is a different document.
	if a, b := f.get(t, "/feed.atom").Header().Get("ETag"), f.get(t, "/feed.atom?limit=3").Header().Get("ETag"); a == b {
		t.Error("limit=3 has the same ETag as the full feed")
	}
}

func TestGzip(t *testing.T) {
	f := newFixture(t)
	plain := f.get(t, "/feed.atom")
	for _, ae := range []string{"gzip", "br, gzip;q=0.8", "*"} {
		rec := f.get(t, "/feed.atom", "Accept-Encoding", ae)
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q", ae, rec.Header().Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, plain.Body.Bytes()) {
			t.Error("gzipped body differs from the plain one")
		}
		if rec.Header().Get("ETag") == plain.Header().Get("ETag") {
			t.Error("gzip and identity share a strong ETag")
		}
		if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
			t.Error("no Vary: Accept-Encoding")
		}
	}
	for _, ae := range []string{"", "identity", "gzip;q=0", "br", "*;q=0"} {
		if rec := f.get(t, "/feed.atom", "Accept-Encoding", ae); rec.Header().Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: got Content-Encoding %q", ae, rec.Header().Get("Content-Encoding"))
		}
	}

	// End to end through a real server: Go's client asks for gzip and
	// decompresses transparently; the ETag then gives a 304.
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	res, err := ts.Client().Get(ts.URL + "/feed.rss")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !res.Uncompressed {
		t.Error("response was not gzipped")
	}
	if _, err := feeds.Parse(body, ts.URL, t0); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/feed.rss", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res2, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: status %d, want 304", res2.StatusCode)
	}
}

func TestIndexPage(t *testing.T) {
	f := newFixture(t)
	rec := f.get(t, "/")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	if strings.Contains(body, "<script") || strings.Contains(body, "<b>chaos") {
		t.Error("the hostile title appears unescaped")
	}
	// Its markup is stripped, as in the feeds, and its words stay.
	if strings.Contains(body, "script&gt;") || !strings.Contains(body, "Harbour bridge &amp; ferry chaos") {
		t.Error("the hostile title is missing or keeps its markup")
	}
	for _, want := range []string{
		`<link rel="alternate" type="application/atom+xml" title="storyline: all stories (Atom)" href="https://storyline.example/feed.atom">`,
		`<link rel="alternate" type="application/rss+xml"`, `<link rel="alternate" type="application/feed+json"`,
		`href="https://storyline.example/topics.atom"`, "Lantern &amp; &lt;Report&gt;", "Meridian Wire",
		`id="topic-`, "Valdoria",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if rec := f.get(t, "/nothing-here"); rec.Code != 404 {
		t.Errorf("/nothing-here: %d", rec.Code)
	}
}

// brokenStore fails every call, like a database that went away.
type brokenStore struct{ Store }

var errBroken = errors.New("disk on fire")

func (brokenStore) Entries(context.Context, store.EntryQuery) ([]store.StoredEntry, error) {
	return nil, errBroken
}
func (brokenStore) Topics(context.Context, store.TopicQuery) ([]store.Topic, error) {
	return nil, errBroken
}

func TestHealthAndErrors(t *testing.T) {
	f := newFixture(t)
	if rec := f.get(t, "/healthz"); rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Errorf("/healthz = %d %q", rec.Code, rec.Body)
	}
	broken := New(Options{Store: brokenStore{f.db}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, path := range []string{"/healthz", "/feed.atom", "/topics.json", "/"} {
		rec := httptest.NewRecorder()
		broken.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 503 {
			t.Errorf("broken store %s: %d, want 503", path, rec.Code)
		}
		if path != "/healthz" && rec.Header().Get("Retry-After") == "" {
			t.Errorf("broken store %s: 503 without Retry-After", path)
		}
		if strings.Contains(rec.Body.String(), "fire") {
			t.Errorf("%s leaks the internal error: %q", path, rec.Body)
		}
	}
}

// corruptStore answers pings but fails every read, like a database whose
// pages are damaged: SELECT 1 works, reading a table does not. Store no
// longer has Ping; the method stays so that a health check that went back
// to pinging (through an interface that has it) would pass here and fail
// the test.
type corruptStore struct{ Store }

func (corruptStore) Ping(context.Context) error { return nil }
func (corruptStore) Entries(context.Context, store.EntryQuery) ([]store.StoredEntry, error) {
	return nil, errBroken
}
func (corruptStore) Topics(context.Context, store.TopicQuery) ([]store.Topic, error) {
	return nil, errBroken
}

func TestHealthRunsARead(t *testing.T) {
	f := newFixture(t)
	srv := New(Options{Store: corruptStore{f.db}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for path, code := range map[string]int{"/healthz": 503, "/": 503} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != code {
			t.Errorf("store that pings but cannot read: %s = %d, want %d", path, rec.Code, code)
		}
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	m := f.srv.Metrics()
	m.ObservePoll(PollOK, 120*time.Millisecond, 3)
	m.ObservePoll(PollError, 2*time.Second, 0)
	m.SetTopicsActive(2)
	f.get(t, "/feed.atom")
	f.get(t, "/topics/1.atom")
	f.get(t, "/topics/2.rss")
	f.get(t, "/no/such/page")
	rec := f.get(t, "/metrics")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	for _, want := range []string{
		`storyline_polls_total{result="ok"} 1`, `storyline_polls_total{result="error"} 1`,
		`storyline_polls_total{result="not_modified"} 0`,
		"storyline_fetch_duration_seconds_bucket", "storyline_fetch_duration_seconds_count 2",
		"storyline_entries_ingested_total 3", "storyline_topics_active 2",
		`storyline_http_requests_total{route="GET /feed.atom",status="200"} 1`,
		`storyline_http_requests_total{route="GET /topics/{file}",status="200"} 2`,
		`storyline_http_requests_total{route="unmatched",status="404"} 1`,
		"storyline_http_request_duration_seconds_bucket", "go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "/no/such/page") {
		t.Error("a raw path became a label")
	}
}

func TestBaseURLFromRequest(t *testing.T) {
	f := newFixture(t)
	srv := New(Options{Store: f.db, Now: func() time.Time { return t0 }})
	req := httptest.NewRequest("GET", "http://news.local:8080/feed.atom?limit=2", nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	body := rec.Body.String()
	if !strings.Contains(body, `href="http://news.local:8080/feed.atom?limit=2"`) ||
		!strings.Contains(body, `href="http://news.local:8080/topics/`) {
		t.Errorf("links not derived from the request:\n%s", body)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"gzip": true, "GZIP": true, "deflate, gzip": true, "gzip;q=0.5": true, "x-gzip": true, "*": true,
		"": false, "identity": false, "gzip;q=0": false, "gzip; q=0.0": false, "*;q=0": false, "br": false,
		"gzip;q=0, *": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

// TestConcurrentReadsDuringWrites serves every endpoint from several
// goroutines while the store takes new polls, for the race detector.
func TestConcurrentReadsDuringWrites(t *testing.T) {
	f := newFixture(t)
	paths := []string{"/", "/feed.atom", "/feed.rss?q=bridge", "/feed.json?limit=3", "/topics.atom", "/topics/1.json", "/healthz", "/metrics"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			pub := t0.Add(time.Duration(i) * time.Minute)
			_, err := f.ingest.SavePoll(context.Background(), store.PollResult{FeedID: f.feedIDs[i%3], PolledAt: pub, Status: 200,
				Entries: []feeds.Entry{{ID: fmt.Sprint("late", i), Link: fmt.Sprintf("https://late.example/%d", i),
					Title: "Harbour bridge reopens to traffic", Text: "Harbour bridge reopens.", Published: pub}}})
			if err == nil {
				_, err = f.ingest.ClusterPending(context.Background())
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				path := paths[(g+i)%len(paths)]
				if rec := f.get(t, path); rec.Code != http.StatusOK {
					t.Errorf("%s: status %d", path, rec.Code)
				}
			}
		})
	}
	wg.Wait()
	<-done
}

// A story that arrives late, dated before the newest one, still changes the
// feed: a client revalidating with If-Modified-Since or with its ETag must
// get the new body, not a 304.
func TestLateStoryInvalidates(t *testing.T) {
	f := newFixture(t)
	now := t0
	f.db.Now = func() time.Time { return now }
	f.srv.now = func() time.Time { return now }
	first := f.get(t, "/feed.atom")
	etag, lm := first.Header().Get("ETag"), first.Header().Get("Last-Modified")

	now = t0.Add(10 * time.Minute)
	late := feeds.Entry{ID: "late", Link: "https://wire.example/late", Title: "Late wire copy about the harbour bridge",
		Text: "Filed hours ago, delivered now.", Published: t0.Add(-30 * time.Hour)}
	if _, err := f.ingest.SavePoll(context.Background(), store.PollResult{FeedID: f.feedIDs[1], PolledAt: now, Status: 200,
		Title: outletTitles[1], Entries: []feeds.Entry{late}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ingest.ClusterPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, h := range [][]string{{"If-Modified-Since", lm}, {"If-None-Match", etag}} {
		rec := f.get(t, "/feed.atom", h...)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Late wire copy") {
			t.Errorf("%v after a late story: status %d", h, rec.Code)
		}
	}
}

// The same feed asked for with its parameters spelled differently is one
// response (and one cache entry), with one self link.
func TestCanonicalSelfLink(t *testing.T) {
	f := newFixture(t)
	a := f.get(t, "/feed.atom?feed=2&limit=3&utm_source=x")
	b := f.get(t, "/feed.atom?limit=3&feed=2")
	if a.Code != 200 || a.Body.String() != b.Body.String() {
		t.Fatalf("bodies differ (%d, %d)", a.Code, b.Code)
	}
	if !strings.Contains(a.Body.String(), `href="https://storyline.example/feed.atom?feed=2&amp;limit=3"`) {
		t.Errorf("self link not canonical:\n%s", a.Body.String()[:600])
	}
}

// The digest changes as storylines leave the activity window, with no new
// data: a client revalidating with If-Modified-Since must then get the new
// document, not a 304.
func TestWindowMovesInvalidates(t *testing.T) {
	f := newFixture(t)
	now := t0
	f.srv.now = func() time.Time { return now }
	first := f.get(t, "/topics.atom")
	lm := first.Header().Get("Last-Modified")
	if rec := f.get(t, "/topics.atom", "If-Modified-Since", lm); rec.Code != http.StatusNotModified {
		t.Fatalf("unchanged digest: status %d", rec.Code)
	}
	now = t0.Add(80 * time.Hour)
	rec := f.get(t, "/topics.atom", "If-Modified-Since", lm)
	if rec.Code != http.StatusOK || rec.Body.String() == first.Body.String() {
		t.Errorf("digest 80 h later: status %d (body changed: %v)", rec.Code, rec.Body.String() != first.Body.String())
	}
}

// TestMovedTopicRedirects: a topic ID that lives on under another ID (here:
// every topic, renumbered by a recluster) answers with a permanent
// redirect to the topic's feed in the same format, query kept, so a
// subscription follows the storyline.
func TestMovedTopicRedirects(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before := topicIDs(t, f)
	if _, _, err := f.ingest.Recluster(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tp := range before {
		to, err := f.db.TopicMovedTo(ctx, tp.ID)
		if err != nil {
			t.Fatalf("topic %d: %v", tp.ID, err)
		}
		rec := f.get(t, fmt.Sprintf("/topics/%d.rss?limit=5", tp.ID))
		want := fmt.Sprintf("https://storyline.example/topics/%d.rss?limit=5", to)
		if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != want {
			t.Errorf("topic %d: status %d, Location %q; want 301 to %s", tp.ID, rec.Code, rec.Header().Get("Location"), want)
		}
		if pf := parse(t, f.get(t, strings.TrimPrefix(want, "https://storyline.example"))); len(pf.Entries) == 0 {
			t.Errorf("topic %d: the new topic's feed is empty", to)
		}
	}
	if rec := f.get(t, "/topics/99999.atom"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown topic: status %d, want 404", rec.Code)
	}
}

// TestJSONFeedImage: a story's picture is JSON Feed's image of its item,
// and only where the feed gave one.
func TestJSONFeedImage(t *testing.T) {
	f := newFixture(t)
	var doc struct {
		Items []struct {
			URL   string `json:"url"`
			Image string `json:"image"`
		} `json:"items"`
	}
	if err := json.Unmarshal(f.get(t, "/feed.json").Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	with := 0
	for _, it := range doc.Items {
		switch {
		case it.URL == "https://herald.example/bridge-1" && it.Image != fixtureImage:
			t.Errorf("the first story's image is %q, want %q", it.Image, fixtureImage)
		case it.URL != "https://herald.example/bridge-1" && it.Image != "":
			t.Errorf("%s has image %q, but its feed gave none", it.URL, it.Image)
		case it.Image != "":
			with++
		}
	}
	if with != 1 {
		t.Errorf("%d items with an image, want 1", with)
	}
}

// TestStoryWithoutLink: a story whose link was dropped (a javascript: URL,
// say) is shown as text, not as a link to the page itself.
func TestStoryWithoutLink(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nolink.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fd, err := db.AddFeed(ctx, store.NewFeed{URL: "https://outlet.example/feed"})
	if err != nil {
		t.Fatal(err)
	}
	pipe := ingest.New(db, cluster.DefaultConfig())
	if _, err := pipe.SavePoll(ctx, store.PollResult{FeedID: fd.ID, PolledAt: t0, Status: 200, Title: "Outlet",
		Entries: []feeds.Entry{{ID: "x1", Title: "Harbour bridge reopens after repairs", Published: t0.Add(-time.Hour)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pipe.ClusterPending(ctx); err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Store: db, BaseURL: "https://storyline.example", Now: func() time.Time { return t0 },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, target := range []string{"/", "/topics/1", "/search?q=bridge"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, "Harbour bridge reopens") {
			t.Fatalf("%s: status %d, story missing:\n%s", target, rec.Code, body)
		}
		if strings.Contains(body, `href=""`) {
			t.Errorf("%s: a story without a link links to the page itself", target)
		}
	}
}
