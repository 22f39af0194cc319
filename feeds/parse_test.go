package feeds

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFixture(t *testing.T, name, feedURL string) *Feed {
	t.Helper()
	f, err := Parse(readFixture(t, name), feedURL, fixedNow)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return f
}

// field compares one normalized value and names it on failure.
func field[T comparable](t *testing.T, name string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", name, got, want)
	}
}

func date(s string) time.Time {
	d, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		fixture, url string
		title        string
		site         string
		lang         string
		ttl          time.Duration
		entries      int
		check        func(t *testing.T, f *Feed)
	}{
		{"rss20.xml", "https://gazette.example/rss.xml", "Harbor Town Gazette", "https://gazette.example/", "en-US", 45 * time.Minute, 4, func(t *testing.T, f *Feed) {
			e := f.Entries[0]
			field(t, "ID", e.ID, "gazette-ferry-2025-03")
			field(t, "Link", e.Link, "https://gazette.example/2025/03/ferry-schedule?id=42&page=2")
			field(t, "Author", e.Author, "Mara Lindqvist")
			field(t, "Published", e.Published, date("2025-03-10T08:30:00Z"))
			field(t, "Undated", e.Undated, false)
			field(t, "Text", e.Text, "The harbor council voted on Monday to add two evening crossings. Ferries will now leave at 19:00 and 21:00.")
			if !slices.Equal(e.Categories, []string{"Transport", "Council"}) {
				t.Errorf("Categories = %q", e.Categories)
			}
			if !strings.Contains(e.Content, `href="https://gazette.example/timetable"`) ||
				!strings.Contains(e.Content, `src="https://gazette.example/2025/03/img/ferry.jpg"`) {
				t.Errorf("relative URLs in content not resolved: %s", e.Content)
			}
			field(t, "Summary", e.Summary, "The council voted 7–2 to add <b>two</b> evening crossings.")
		}},
		{"rss10.rdf", "https://valley.example/rss", "Valley Courier", "https://valley.example/", "de-DE", 30 * time.Minute, 1, func(t *testing.T, f *Feed) {
			e := f.Entries[0]
			field(t, "Title", e.Title, "Neue Brücke über den Fluss eröffnet")
			field(t, "ID", e.ID, "https://valley.example/news/bridge")
			field(t, "Published", e.Published, date("2025-03-11T08:00:00Z"))
			field(t, "Author", e.Author, "Jonas Weber")
			field(t, "Language", e.Language, "de-AT")
		}},
		{"rss091.xml", "http://oldmill.example/rss.xml", "Old Mill Weekly", "http://oldmill.example/", "en", 0, 1, func(t *testing.T, f *Feed) {
			e := f.Entries[0]
			field(t, "ID", e.ID, "http://oldmill.example/stories/pond.html")
			field(t, "Published", e.Published, fixedNow)
			field(t, "Undated", e.Undated, true)
		}},
		{"atom10.xml", "https://plateau.example/atom.xml", "Plateau Dispatch", "https://plateau.example/", "fr-FR", 0, 2, func(t *testing.T, f *Feed) {
			e := f.Entries[0]
			field(t, "ID", e.ID, "tag:plateau.example,2025:wind")
			field(t, "Link (xml:base)", e.Link, "https://plateau.example/blog/posts/wind-farm.html")
			field(t, "Published", e.Published, date("2025-03-11T17:00:00Z"))
			field(t, "Updated", e.Updated, date("2025-03-12T09:00:00Z"))
			field(t, "Summary", e.Summary, "Residents will decide in April.")
			field(t, "Content", e.Content, "<p>Residents of the plateau will vote in April on adding twelve turbines.</p>")
			field(t, "Author", e.Author, "Claire Dumont")
			e = f.Entries[1]
			field(t, "xhtml Title", e.Title, "School roof repaired")
			field(t, "Published from Updated", e.Published, date("2025-03-10T08:00:00Z"))
			field(t, "feed Author", e.Author, "Plateau Desk")
			field(t, "Text from summary", e.Text, "Only updated date here.")
		}},
		{"atom03.xml", "https://ridge.example/atom.xml", "Ridge Notes", "https://ridge.example/", "en", 0, 1, func(t *testing.T, f *Feed) {
			e := f.Entries[0]
			field(t, "Link", e.Link, "https://ridge.example/trail-closed")
			field(t, "Published", e.Published, date("2025-02-01T10:00:00Z"))
			field(t, "Updated", e.Updated, date("2025-02-01T11:00:00Z"))
		}},
		{"jsonfeed11.json", "https://delta.example/feed.json", "Delta Daily", "https://delta.example/", "es", 0, 2, func(t *testing.T, f *Feed) {
			e := f.Entries[0]
			field(t, "Link", e.Link, "https://delta.example/articles/1")
			field(t, "Summary (plain text escaped)", e.Summary, "Record yield &amp; more")
			field(t, "Text", e.Text, "Farmers reported a record yield.")
			field(t, "Language", e.Language, "es-MX")
			field(t, "Author", e.Author, "Delta Newsroom")
			e = f.Entries[1]
			field(t, "Content from content_text", e.Content, "Water levels &lt; normal\nfor March.")
			field(t, "Text", e.Text, "Water levels < normal for March.")
			field(t, "Published from date_modified", e.Published, date("2025-03-06T07:00:00Z"))
			field(t, "Language from feed", e.Language, "es")
		}},
		{"jsonfeed10.json", "https://canal.example/feed.json", "Canal Chronicle", "https://canal.example/", "", 0, 1, func(t *testing.T, f *Feed) {
			e := f.Entries[0]
			field(t, "ID", e.ID, "https://canal.example/locks")
			field(t, "Author", e.Author, "Pia Novak")
			field(t, "Content", e.Content, "<p>The old locks will be automated.</p>")
		}},
		{"latin1.xml", "https://alpen.example/rss", "Alpenblatt", "https://alpen.example/", "", 0, 1, func(t *testing.T, f *Feed) {
			e := f.Entries[0]
			field(t, "Title", e.Title, "Zürich: Straßenbahn fährt wieder")
			field(t, "Text", e.Text, "Die Linie 4 ist nach der Reparatur wieder in Betrieb · schön.")
		}},
		{"cp1252.xml", "https://q.example/rss", "Quotes", "https://q.example/", "", 0, 1, func(t *testing.T, f *Feed) {
			field(t, "Title", f.Entries[0].Title, "“Smart” quotes – and euro €")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			f := parseFixture(t, tc.fixture, tc.url)
			field(t, "Feed.Title", f.Title, tc.title)
			field(t, "Feed.SiteLink", f.SiteLink, tc.site)
			field(t, "Feed.Language", f.Language, tc.lang)
			field(t, "Feed.TTL", f.TTL, tc.ttl)
			if len(f.Entries) != tc.entries {
				t.Fatalf("%d entries, want %d", len(f.Entries), tc.entries)
			}
			for i, e := range f.Entries {
				if e.ID == "" || e.Published.IsZero() || e.Title == "" {
					t.Errorf("entry %d not normalized: %+v", i, e)
				}
			}
			tc.check(t, f)
		})
	}
}

func TestParseEntryEdgeCases(t *testing.T) {
	f := parseFixture(t, "rss20.xml", "https://gazette.example/rss.xml")
	tests := []struct {
		name  string
		entry int
		check func(t *testing.T, e Entry)
	}{
		{"relative link with tracking params, no guid", 1, func(t *testing.T, e Entry) {
			field(t, "Link", e.Link, "https://gazette.example/2025/03/quotas?ref=home")
			field(t, "ID falls back to link", e.ID, e.Link)
		}},
		{"HTML and CDATA in title", 1, func(t *testing.T, e Entry) {
			field(t, "Title", e.Title, "Fishing quotas: what changes & why")
		}},
		{"no link, no guid, no date", 2, func(t *testing.T, e Entry) {
			field(t, "Link", e.Link, "")
			if !strings.HasPrefix(e.ID, "sha1:") || len(e.ID) != len("sha1:")+40 {
				t.Errorf("ID = %q, want a sha1 hash", e.ID)
			}
			field(t, "Published", e.Published, fixedNow)
			field(t, "Undated", e.Undated, true)
			field(t, "Title", e.Title, `Lighthouse reopens after "storm" repairs`)
		}},
		{"hostile HTML", 3, func(t *testing.T, e Entry) {
			for _, bad := range []string{"<script", "alert", "onclick", "<iframe", "<style", "color:red", "javascript:", "style="} {
				if strings.Contains(strings.ToLower(e.Summary), bad) {
					t.Errorf("Summary keeps %q: %s", bad, e.Summary)
				}
			}
			field(t, "Text", e.Text, "Click here Boxed")
			field(t, "ID from guid", e.ID, "https://gazette.example/?p=777")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, f.Entries[tc.entry]) })
	}

	t.Run("hash ID is stable across polls", func(t *testing.T) {
		later, err := Parse(readFixture(t, "rss20.xml"), "https://gazette.example/rss.xml", fixedNow.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		field(t, "ID", later.Entries[2].ID, f.Entries[2].ID)
	})
}

func TestParseUndeclaredLatin1(t *testing.T) {
	body := []byte("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Gen\xe8ve</title>" +
		"<item><title>Caf\xe9 cr\xe8me</title><link>https://x.example/1</link></item></channel></rss>")
	f, err := Parse(body, "https://x.example/rss", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	field(t, "Title", f.Entries[0].Title, "Café crème")
}

func TestParseNotFeed(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantFound string // "" means any error, not necessarily NotFeedError
		wantMsg   string
		wantLinks int
	}{
		{"HTML page with feed links", string(readFixture(t, "page_with_links.html")), "an HTML page", "is an HTML page with feed links: https://site.example/rss.xml", 3},
		{"HTML page without feed links", string(readFixture(t, "page_without_links.html")), "an HTML page", "https://site.example/page is an HTML page, no feed links", 0},
		{"HTML without doctype", "<html><head><title>x</title></head><body>hi</body></html>", "an HTML page", "HTML page", 0},
		{"empty body", "", "an empty body", "is an empty body", 0},
		{"whitespace", " \n\t ", "an empty body", "empty", 0},
		{"JSON that is not a JSON Feed", `{"status":"ok","items":[]}`, "JSON that is not a JSON Feed", "not a JSON Feed", 0},
		{"JSON array", `[1,2,3]`, "JSON that is not a JSON Feed", "not a JSON Feed", 0},
		{"malformed JSON", `{"version": "https://jsonfeed.org/version/1.1", `, "malformed JSON", "malformed JSON", 0},
		{"other XML", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`, "an XML document with root <svg>", "root <svg>", 0},
		{"plain text", "Service temporarily unavailable", "", "content starting with", 0},
		{"binary garbage", "\x00\x01\x02\xff\xfe garbage", "", "site.example", 0},
		{"truncated RSS", `<rss version="2.0"><channel><title>x</title><item><title>`, "", "feeds: parse https://site.example/page", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.body), "https://site.example/page", fixedNow)
			if err == nil {
				t.Fatalf("no error, feed %+v", f)
			}
			if f != nil {
				t.Errorf("feed returned with error")
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			var nf *NotFeedError
			if tc.wantFound != "" {
				if !errors.As(err, &nf) {
					t.Fatalf("err = %T %v, want *NotFeedError", err, err)
				}
				field(t, "Found", nf.Found, tc.wantFound)
				field(t, "URL", nf.URL, "https://site.example/page")
				field(t, "len(FeedLinks)", len(nf.FeedLinks), tc.wantLinks)
			}
		})
	}
}

// FuzzParse's seeds are small documents of each format, not the fixture
// files: Go minimizes every input that finds new code (for up to
// -fuzzminimizetime, 60 s by default) at a cost that grows with the square
// of its length, and counts a worker's execs only once that is done. With
// the 1-2 KB fixtures as seeds, both workers spent a 60 s run minimizing
// their descendants and the run reported a few thousand execs at "0/sec"
// (as few as 14 at times) although each worker parsed thousands of
// documents a second; seeds of a few hundred bytes minimize in a second or two.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://s.example/</link><ttl>60</ttl>` +
			`<item><title>A &amp; B</title><link>/a</link><guid>1</guid><pubDate>Mon, 02 Jan 2006 15:04:05 GMT</pubDate>` +
			`<description>&lt;p&gt;x &lt;img src="i.png"&gt;&lt;/p&gt;</description><category>c</category></item></channel></rss>`,
		`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" ` +
			`xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title></channel><item rdf:about="https://s.example/1">` +
			`<title>A</title><link>https://s.example/1</link><dc:date>2006-01-02T15:04:05Z</dc:date></item></rdf:RDF>`,
		`<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>T</title><link href="https://s.example/"/>` +
			`<entry><id>urn:1</id><title type="html">A &lt;b&gt;</title><link rel="alternate" href="a"/>` +
			`<updated>2006-01-02T15:04:05Z</updated><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></content></entry></feed>`,
		`{"version":"https://jsonfeed.org/version/1.1","title":"T","home_page_url":"https://s.example/","items":[` +
			`{"id":"1","url":"/a","title":"A","content_html":"<p>x</p>","date_published":"2006-01-02T15:04:05Z","tags":["c"]}]}`,
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Caf\xe9</title>" +
			"<item><title>\xe9t\xe9</title><guid>1</guid></item></channel></rss>",
		`<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">` +
			`<link rel="alternate" type="application/atom+xml" href="https://s.example/atom"></head><body>x</body></html>`,
		`<rss><channel><item><title><![CDATA[<b>x]]></title><link>::</link></item></channel></rss>`,
		`{"version":"https://jsonfeed.org/version/1","items":[{"content_html":"<p"}]}`,
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		feed, err := Parse(body, "https://fuzz.example/feed", fixedNow)
		if err == nil && feed == nil {
			t.Fatal("nil feed without error")
		}
		if err != nil {
			return
		}
		for _, e := range feed.Entries {
			if e.ID == "" || e.Published.IsZero() {
				t.Fatalf("entry not normalized: %+v", e)
			}
		}
	})
}

func BenchmarkParse50(b *testing.B) {
	body := readFixture(b, "bench50.xml")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var items int
	for b.Loop() {
		f, err := Parse(body, "https://news.example/rss.xml", fixedNow)
		if err != nil {
			b.Fatal(err)
		}
		items += len(f.Entries)
	}
	if items/b.N != 50 {
		b.Fatalf("%d items per parse, want 50", items/b.N)
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

// TestTitlesCarryNoMarkup reads titles that decode to markup (entities
// encoded twice, or inside CDATA): each comes out as text with no tag in
// it, since many readers render titles as HTML.
func TestTitlesCarryNoMarkup(t *testing.T) {
	tests := []struct {
		fixture string
		feed    string
		titles  []string
	}{
		{"hostile_titles.xml", "Wire Daily", []string{
			"Breaking", "Breaking", "Bold move", "Nested", "Click here", "AT&T beats 1 < 2 forecasts <3",
		}},
		{"hostile_titles.json", "Wire Daily", []string{"Breaking", "Photo", "Rates < 2%, says bank"}},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			f := parseFixture(t, tc.fixture, "https://wire.example/feed")
			field(t, "feed title", f.Title, tc.feed)
			var got []string
			for _, e := range f.Entries {
				got = append(got, e.Title)
			}
			if !slices.Equal(got, tc.titles) {
				t.Errorf("titles:\n got %q\nwant %q", got, tc.titles)
			}
		})
	}
}
