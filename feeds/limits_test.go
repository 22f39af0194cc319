package feeds

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// hostileRSS is one item with fields far beyond any real story's.
func hostileRSS() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title><item>`)
	b.WriteString("<title>" + strings.Repeat("Breaking ", 600_000) + "</title>") // 5.4 MB
	b.WriteString("<link>https://hostile.example/" + strings.Repeat("a", 10_000) + "</link>")
	b.WriteString("<guid>" + strings.Repeat("g", 2_000) + "</guid>")
	b.WriteString("<author>" + strings.Repeat("x", 1_000) + "</author>")
	for i := range 10_000 {
		fmt.Fprintf(&b, "<category>tag%d</category>", i)
	}
	// Nested elements cut anywhere must come out closed.
	b.WriteString("<description><![CDATA[" + strings.Repeat("<p><b>bold <i>words é</i></b> and text</p>", 3_000) + "]]></description>")
	b.WriteString("</item></channel></rss>")
	return b.String()
}

func TestParseCapsHostileFields(t *testing.T) {
	doc, err := Parse([]byte(hostileRSS()), "https://hostile.example/feed", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := doc.Entries[0]
	for _, c := range []struct {
		field string
		got   int
		max   int
	}{
		{"title", len(e.Title), MaxTitleBytes},
		{"summary", len(e.Summary), MaxSummaryBytes + 64}, // + the closing tags
		{"text", len(e.Text), MaxTextBytes},
		{"author", len(e.Author), MaxAuthorBytes},
		{"id", len(e.ID), MaxIDBytes},
		{"categories", len(e.Categories), MaxCategories},
	} {
		if c.got > c.max || c.got == 0 {
			t.Errorf("%s: %d bytes or items, want 1 to %d", c.field, c.got, c.max)
		}
	}
	if e.Link != "" {
		t.Errorf("a %d-byte link was kept", len(e.Link))
	}
	if doc.Truncated != 6 { // title, summary, author, link, id, categories (the text is within its limit)
		t.Errorf("Truncated = %d, want 6", doc.Truncated)
	}
	if !strings.HasSuffix(e.Title, "…") || !strings.HasPrefix(e.Title, "Breaking Breaking") {
		t.Errorf("title cut as %q…", e.Title[:40])
	}
	// The cut summary is whole HTML: every element closed.
	z := html.NewTokenizer(strings.NewReader(e.Summary))
	depth := 0
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		switch tt {
		case html.StartTagToken:
			depth++
		case html.EndTagToken:
			depth--
		}
	}
	if depth != 0 {
		t.Errorf("the cut summary leaves %d elements open", depth)
	}
}

func TestTruncateKeepsRunesWhole(t *testing.T) {
	s := strings.Repeat("é", 1000) // 2 bytes each
	for _, max := range []int{10, 11, 12, 13} {
		got := truncateText(s, max)
		if len(got) > max || !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') {
			t.Errorf("truncateText(%d) = %q", max, got)
		}
		h := truncateHTML("<p>"+s+"</p>", max)
		if strings.ContainsRune(h, '\uFFFD') || !strings.HasPrefix(h, "<p>") || !strings.Contains(h, "</p>") {
			t.Errorf("truncateHTML(%d) = %q", max, h)
		}
	}
}

func TestLimitItemsKeepsTheNewest(t *testing.T) {
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	doc := &Feed{}
	// Document order is not date order: the newest are spread out, and
	// four entries share the time at the cut.
	for i := range 2500 {
		at := base.Add(time.Duration((i*7919)%2500) * time.Minute)
		doc.Entries = append(doc.Entries, Entry{ID: fmt.Sprint(i), Published: at})
	}
	for i := range 4 {
		doc.Entries = append(doc.Entries, Entry{ID: fmt.Sprint("tie", i), Published: base.Add(1500 * time.Minute)})
	}
	dropped := LimitItems(doc, 1000)
	if len(doc.Entries) != 1000 || dropped != 1504 {
		t.Fatalf("kept %d, dropped %d; want 1000, 1504", len(doc.Entries), dropped)
	}
	cut := base.Add(1500 * time.Minute)
	pos := map[string]int{}
	for i, e := range doc.Entries {
		if e.Published.Before(cut) {
			t.Fatalf("entry %s of %v kept, older than the cut", e.ID, e.Published)
		}
		pos[e.ID] = i
	}
	// Document order is kept.
	for i := 1; i < len(doc.Entries); i++ {
		if a, b := doc.Entries[i-1].ID, doc.Entries[i].ID; pos[a] > pos[b] {
			t.Fatal("document order changed")
		}
	}
	if LimitItems(doc, 1000) != 0 || LimitItems(doc, 0) != 0 {
		t.Error("a document within the limit lost entries")
	}
}

// TestParseKeepsNoNULs: a JSON feed may escape a NUL or a lone surrogate
// into any string; neither reaches an entry, since PostgreSQL would refuse
// to store it (and with it the whole poll).
func TestParseKeepsNoNULs(t *testing.T) {
	body := `{"version":"https://jsonfeed.org/version/1.1","title":"Nul\u0000 News","home_page_url":"https://nul.example/\u0000",
		"items":[{"id":"a\u0000b","url":"https://nul.example/1","title":"Harbour\u0000 bridge \ud800closed",
		"content_text":"Text\u0000 here","authors":[{"name":"Ann\u0000"}],"tags":["x\u0000y"],"date_published":"2026-11-26T10:00:00Z"}]}`
	doc, err := Parse([]byte(body), "https://nul.example/feed.json", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Entries) != 1 {
		t.Fatalf("%d entries", len(doc.Entries))
	}
	e := doc.Entries[0]
	for name, s := range map[string]string{"feed title": doc.Title, "site link": doc.SiteLink, "id": e.ID, "title": e.Title,
		"text": e.Text, "content": e.Content, "author": e.Author, "category": strings.Join(e.Categories, ",")} {
		if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
			t.Errorf("%s %q keeps a NUL or invalid UTF-8", name, s)
		}
	}
	if !strings.Contains(e.Title, "Harbour bridge") {
		t.Errorf("title %q lost its words", e.Title)
	}
}
