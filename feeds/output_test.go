package feeds

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// hostileFeed is the fixed feed of the golden tests: markup, "]]>", control
// characters, invalid UTF-8, an encoded surrogate, entities and emoji, in
// every field that reaches the output.
func hostileFeed() *OutFeed {
	t1 := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	topic := &OutTopic{ID: 7, Name: "Harbour <bridge> & ferries", FeedURL: "https://storyline.example/topics/7.atom"}
	return &OutFeed{
		ID:       "tag:storyline.example,2026:feed",
		Title:    "storyline: all stories <&> \x01",
		Subtitle: "Merged ]]> stream",
		SelfURL:  "https://storyline.example/feed.atom?q=a&limit=2",
		HTMLURL:  "https://storyline.example/",
		Language: "en",
		Items: []OutItem{
			{
				ID:    "https://news.example/a?x=1&y=2",
				Title: "<script>alert(1)</script> Bridge ]]> closed \x00\x07\x1b & \"quoted\" 'single'",
				Link:  "https://news.example/a?x=1&y=2",
				ContentHTML: `<p onclick="evil()">Ships &amp; <b>cars</b> ]]> <script>alert(2)</script>` +
					"\x0b\x0c ctrl</p><a href=\"/rel\">relative</a><![CDATA[ x ]]>",
				Author:     "Ann <Editor>",
				Published:  t1,
				Updated:    t1.Add(time.Hour),
				Source:     OutSource{Title: "Harbour & Line <Post>", URL: "https://news.example/feed.xml", HTMLURL: "https://news.example/"},
				Topic:      topic,
				Categories: []string{"Transport", "Harbour <bridge> & ferries", "\x02"},
				AlsoIn:     []OutSource{{Title: "Other Wire", URL: "https://wire.example/rss", Link: "https://wire.example/a"}},
			},
			{
				ID:          "tag:storyline.example,2026:entry/2",
				Title:       "Bad bytes \xff\xfe here, surrogate \xed\xa0\x80, nonchar \uFFFE\uFFFF, emoji 🚢🌉, &amp; entity",
				Link:        "https://other.example/b",
				ContentHTML: "Plain \xc3(\xa9 text &amp;amp; 🚢 &lt;not a tag&gt;",
				Published:   t1.Add(-2 * time.Hour),
				Source:      OutSource{Title: "Other\tWire\r\n", URL: "https://other.example/rss?a=1&b=2"},
			},
			{
				// No link, author, topic or date: the writers must still
				// produce valid documents.
				ID:    "tag:storyline.example,2026:entry/3",
				Title: "",
			},
		},
	}
}

func TestOutputGolden(t *testing.T) {
	formats := []struct {
		name  string
		write func(io.Writer, *OutFeed) error
	}{
		{"feed.atom", WriteAtom},
		{"feed.rss", WriteRSS},
		{"feed.json", WriteJSONFeed},
	}
	for _, tc := range formats {
		t.Run(tc.name, func(t *testing.T) {
			f := hostileFeed()
			var buf bytes.Buffer
			if err := tc.write(&buf, f); err != nil {
				t.Fatal(err)
			}
			out := buf.Bytes()
			if !utf8.Valid(out) {
				t.Error("output is not valid UTF-8")
			}
			if strings.Contains(string(out), "<![CDATA[") {
				t.Error("output contains CDATA")
			}
			if strings.Contains(string(out), "<script") {
				t.Error("output contains a raw <script")
			}
			checkGolden(t, filepath.Join("testdata", "golden", tc.name), out)

			if strings.HasSuffix(tc.name, ".json") {
				checkJSONFeed(t, out, len(f.Items))
			} else {
				checkWellFormedXML(t, out)
				xmllint(t, out)
			}
			parsed, err := Parse(out, f.SelfURL, fixedNow)
			if err != nil {
				t.Fatalf("feeds.Parse: %v", err)
			}
			if len(parsed.Entries) != len(f.Items) {
				t.Fatalf("parsed %d entries, want %d", len(parsed.Entries), len(f.Items))
			}
			for i, e := range parsed.Entries {
				if want := titleAsParsed(tc.name, f.Items[i].Title); e.Title != want {
					t.Errorf("entry %d title = %q, want %q", i, e.Title, want)
				}
				if e.Link != f.Items[i].Link {
					t.Errorf("entry %d link = %q, want %q", i, e.Link, f.Items[i].Link)
				}
			}
			if e := parsed.Entries[0]; !strings.Contains(e.Content+e.Summary, "Ships &amp; <b>cars</b>") {
				t.Errorf("entry 0 content lost its HTML: %q / %q", e.Content, e.Summary)
			}
		})
	}
}

// titleAsParsed is the title our own parser reads back. Atom titles are
// written as escaped HTML, so they survive but for what looks like markup,
// which our parser strips from every title; RSS titles are plain text that
// our parser, like many readers, reads as HTML (dropping what looks like a
// script element), so they survive as their PlainText; so does JSON Feed,
// whose titles our parser also reads as HTML.
func titleAsParsed(format, title string) string {
	title = CleanText(title)
	if format != "feed.atom" {
		return StripMarkup(PlainText(title))
	}
	return StripMarkup(collapseSpace(title))
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./feeds -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update if the change is intended)\n--- got ---\n%s", path, got)
	}
}

// checkWellFormedXML decodes every token strictly, which is what the
// strictest readers do before anything else.
func checkWellFormedXML(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("encoding/xml: %v", err)
		}
	}
}

func checkJSONFeed(t *testing.T, b []byte, items int) {
	t.Helper()
	var doc struct {
		Version     string `json:"version"`
		Title       string `json:"title"`
		HomePageURL string `json:"home_page_url"`
		FeedURL     string `json:"feed_url"`
		Items       []map[string]any
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if doc.Version != JSONFeedVersion || doc.Title == "" || doc.FeedURL == "" || doc.HomePageURL == "" {
		t.Errorf("feed fields: %+v", doc)
	}
	if len(doc.Items) != items {
		t.Fatalf("%d items, want %d", len(doc.Items), items)
	}
	for i, it := range doc.Items {
		if _, ok := it["id"].(string); !ok {
			t.Errorf("item %d: id %v is not a string", i, it["id"])
		}
		for _, k := range []string{"title", "content_html", "authors", "_storyline"} {
			if _, ok := it[k]; !ok {
				t.Errorf("item %d: no %s", i, k)
			}
		}
	}
	x := doc.Items[0]["_storyline"].(map[string]any)
	if topic, _ := x["topic"].(map[string]any); topic["feed_url"] != "https://storyline.example/topics/7.atom" {
		t.Errorf("item 0 topic = %v", x["topic"])
	}
}

// xmllint checks the document with libxml2 when it is installed; CI must
// have it, so there its absence fails.
func xmllint(t *testing.T, b []byte) {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint not found on PATH (required when CI=true)")
		}
		t.Log("xmllint not found; skipping the libxml2 check")
		return
	}
	cmd := exec.Command(path, "--noout", "-")
	cmd.Stdin = bytes.NewReader(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"tab\tnl\ncr\r", "tab\tnl\ncr\r"},
		{"nul\x00bell\x07esc\x1b", "nulbellesc"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"surrogate \xed\xa0\x80 gone", "surrogate  gone"},
		{"nonchars \uFFFE\uFFFF", "nonchars "},
		{"emoji 🚢 and é kept \uFFFD", "emoji 🚢 and é kept \uFFFD"},
		{"truncated \xe2\x82", "truncated \uFFFD\uFFFD"},
	}
	for _, tc := range tests {
		if got := CleanText(tc.in); got != tc.want {
			t.Errorf("CleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzWriteAtom checks that no title or content can make the output
// ill-formed.
func FuzzWriteAtom(f *testing.F) {
	f.Add("<script>]]>", "\x00\xff&amp;")
	f.Add("\xed\xa0\x80", "<![CDATA[x]]>")
	f.Fuzz(func(t *testing.T, title, content string) {
		feed := &OutFeed{ID: "tag:x,2026:f", Title: title, SelfURL: "https://x.example/f",
			Items: []OutItem{{ID: "tag:x,2026:" + title, Title: title, ContentHTML: content,
				Source: OutSource{Title: title, URL: "https://x.example/" + title}, Categories: []string{title}}}}
		for _, write := range []func(io.Writer, *OutFeed) error{WriteAtom, WriteRSS} {
			var buf bytes.Buffer
			if err := write(&buf, feed); err != nil {
				t.Fatal(err)
			}
			d := xml.NewDecoder(&buf)
			for {
				_, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("ill-formed output for %q / %q: %v", title, content, err)
				}
			}
		}
	})
}

func TestLanguageTag(t *testing.T) {
	for in, want := range map[string]string{
		"zh-CN": "zh-CN", "zh-cn": "zh-CN", "ja": "ja", "en_US": "en-US", " en-gb ": "en-GB",
		"": "", "English": "", "x": "", "und": "", `en" onload="x`: "",
	} {
		if got := LanguageTag(in); got != want {
			t.Errorf("LanguageTag(%q) = %q, want %q", in, got, want)
		}
	}
}

// A story's language goes out as Atom's xml:lang and JSON Feed's language,
// as a well-formed tag, and not at all when the feed declared nonsense.
func TestItemLanguage(t *testing.T) {
	f := &OutFeed{ID: "https://s.example/feed.atom", Title: "t", SelfURL: "https://s.example/feed.atom", HTMLURL: "https://s.example/",
		Updated: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), Items: []OutItem{
			{ID: "https://n.example/1", Title: "国际会议在北京举行", Link: "https://n.example/1", Published: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), Language: "zh-cn"},
			{ID: "https://n.example/2", Title: "Storm", Link: "https://n.example/2", Published: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), Language: "English"},
		}}
	var atom, js bytes.Buffer
	if err := WriteAtom(&atom, f); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSONFeed(&js, f); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(atom.String(), `<entry xml:lang="zh-CN">`) || strings.Count(atom.String(), "<entry>") != 1 {
		t.Errorf("Atom entries' xml:lang:\n%s", atom.String())
	}
	if !strings.Contains(js.String(), `"language": "zh-CN"`) && !strings.Contains(js.String(), `"language":"zh-CN"`) || strings.Count(js.String(), `"language"`) != 1 {
		t.Errorf("JSON Feed items' language:\n%s", js.String())
	}
}
