package feeds

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var fixNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// Items whose links repeat within a document (anchors of one page, every
// item linking to the home page) or that have neither link nor title nor
// date must still be distinct entries.
func TestRepeatedLinksKeepEntriesApart(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>Changelog</title><link>https://example.org/</link><description>d</description>
<item><title>v1.2</title><link>https://example.org/changelog#v1.2</link><description>Faster sync.</description></item>
<item><title>v1.1</title><link>https://example.org/changelog#v1.1</link><description>Bug fixes.</description></item>
<item><description>An untitled note.</description></item>
<item><description>Another untitled note.</description></item>
<item><title>Unique</title><link>https://example.org/unique</link></item>
</channel></rss>`
	f, err := Parse([]byte(doc), "https://example.org/feed", fixNow)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range f.Entries {
		if ids[e.ID] {
			t.Errorf("id %q used twice", e.ID)
		}
		ids[e.ID] = true
	}
	if f.Entries[4].ID != "https://example.org/unique" {
		t.Errorf("an item with its own link keeps the link as id: %q", f.Entries[4].ID)
	}
	if f.Entries[0].Link != "https://example.org/changelog" {
		t.Errorf("the canonical link still drops the fragment: %q", f.Entries[0].Link)
	}
	g, _ := Parse([]byte(doc), "https://example.org/feed", fixNow.Add(time.Hour))
	for i := range f.Entries {
		if f.Entries[i].ID != g.Entries[i].ID {
			t.Errorf("entry %d: id not stable across polls", i)
		}
	}
}

// Items that share a GUID but link to different articles (a generator's
// slip) are all kept, each told apart by its link whatever its place, so
// that an item added above them takes none of their ids. Items that share
// GUID and link are one item, as before.
func TestRepeatedGUIDsKeepArticlesApart(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>Odd Site</title><link>https://odd.example/</link><description>d</description>
<item><guid>dup</guid><title>Mayor opens new bridge</title><link>https://odd.example/bridge</link></item>
<item><guid>dup</guid><title>Stock markets fall sharply</title><link>https://odd.example/stocks</link></item>
<item><guid>same</guid><title>Fire downtown</title><link>https://odd.example/fire</link></item>
<item><guid>same</guid><title>Fire downtown (updated)</title><link>https://odd.example/fire</link></item>
</channel></rss>`
	f, err := Parse([]byte(doc), "https://odd.example/feed", fixNow)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range f.Entries {
		ids = append(ids, e.ID)
	}
	want := []string{"dup https://odd.example/bridge", "dup https://odd.example/stocks", "same", "same"}
	if strings.Join(ids, "|") != strings.Join(want, "|") {
		t.Errorf("ids %q, want %q", ids, want)
	}
	// A new item on top, with the same GUID again: the others keep theirs.
	top := strings.Replace(doc, "<item>", `<item><guid>dup</guid><title>Rain floods roads</title><link>https://odd.example/rain</link></item><item>`, 1)
	g, err := Parse([]byte(top), "https://odd.example/feed", fixNow)
	if err != nil {
		t.Fatal(err)
	}
	if g.Entries[1].ID != ids[0] || g.Entries[2].ID != ids[1] || g.Entries[0].ID != "dup https://odd.example/rain" {
		t.Errorf("after an item on top: %q, %q, %q", g.Entries[0].ID, g.Entries[1].ID, g.Entries[2].ID)
	}
	// A long GUID and link still make an id the stores take.
	long := strings.NewReplacer("<guid>dup</guid>", "<guid>"+strings.Repeat("g", 1000)+"</guid>",
		"https://odd.example/stocks", "https://odd.example/"+strings.Repeat("s", 3000)).Replace(doc)
	h, err := Parse([]byte(long), "https://odd.example/feed", fixNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h.Entries {
		if len(e.ID) > MaxIDBytes {
			t.Errorf("id of %d bytes", len(e.ID))
		}
	}
}

func TestTitleNamingATag(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://example.org/</link><description>d</description>
<item><title>Chrome bug in &lt;iframe&gt; sandbox lets pages escape</title><link>https://example.org/1</link></item>
</channel></rss>`
	f, err := Parse([]byte(doc), "https://example.org/feed", fixNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Entries[0].Title; !strings.Contains(got, "sandbox lets pages escape") {
		t.Errorf("title cut short: %q", got)
	}
	if got := PlainText("before <select> after, never closed"); !strings.Contains(got, "after, never closed") {
		t.Errorf("unclosed <select> swallowed the text: %q", got)
	}
	if got := PlainText("a<script>x()</script>b"); got != "ab" {
		t.Errorf("closed script kept: %q", got)
	}
}

// One stray byte in a UTF-8 feed must not turn every accented letter into
// mojibake.
func TestOneBadByteInUTF8(t *testing.T) {
	doc := "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>t</title><link>https://example.org/</link><description>d</description>" +
		"<item><title>Zürich café reopens</title><link>https://example.org/1</link><description>Bad byte: \xff here.</description></item>" +
		"</channel></rss>"
	f, err := Parse([]byte(doc), "https://example.org/feed", fixNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Entries[0].Title; got != "Zürich café reopens" {
		t.Errorf("title = %q", got)
	}
}

func TestLongPrologBeforeFeed(t *testing.T) {
	doc := `<?xml version="1.0"?><!-- ` + strings.Repeat("x", 6000) + ` --><?xml-stylesheet href="s.xsl"?>` +
		`<rss version="2.0"><channel><title>t</title><link>https://example.org/</link><description>d</description>` +
		`<item><title>One</title><link>https://example.org/1</link></item></channel></rss>`
	f, err := Parse([]byte(doc), "https://example.org/feed", fixNow)
	if err != nil || len(f.Entries) != 1 {
		t.Fatalf("feed after a long prolog: %v", err)
	}
}

func TestRetryAfterNegativeOverflow(t *testing.T) {
	if d := parseRetryAfter("-9223372037", fixNow); d != 0 {
		t.Errorf("huge negative Retry-After = %v, want 0", d)
	}
}

// A sentence most items of a document repeat is boilerplate: it leaves the
// plain text that stories are clustered and searched by, and stays in
// what readers see. Two items sharing a sentence keep it.
func TestBoilerplateLeavesThePlainText(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Plainville Courier</title><link>https://courier.example/</link><description>d</description>`)
	stories := []string{
		"Mayor opens the new river bridge. Traffic flows from Monday.",
		"Stock markets fall sharply. Banks lead the losses.",
		"Zoo welcomes a baby panda. Visitors queue for hours.",
		"Local team wins the basketball final. Fans celebrate downtown.",
		"Clinic offers free flu vaccines. Appointments open today.",
	}
	for i, s := range stories {
		fmt.Fprintf(&b, `<item><guid>%d</guid><title>%s</title><link>https://courier.example/%d</link><description>%s This article first appeared on Plainville Courier, your trusted source for local news.</description></item>`,
			i, strings.SplitN(s, ".", 2)[0], i, s)
	}
	b.WriteString(`</channel></rss>`)
	f, err := Parse([]byte(b.String()), "https://courier.example/feed", fixNow)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range f.Entries {
		if strings.Contains(e.Text, "first appeared") || e.Text != stories[i] {
			t.Errorf("item %d text %q, want %q", i, e.Text, stories[i])
		}
		if !strings.Contains(e.Summary, "first appeared") {
			t.Errorf("item %d: the summary lost the sentence readers see: %q", i, e.Summary)
		}
	}
	// Two items of three sharing a sentence do not make it boilerplate
	// unless it is in three items.
	two := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link><description>d</description>
<item><guid>1</guid><title>A</title><description>Storm hits the coast. Ferries stop.</description></item>
<item><guid>2</guid><title>B</title><description>Storm hits the coast. Schools close.</description></item>
<item><guid>3</guid><title>C</title><description>Council meets. Budget passes.</description></item>
</channel></rss>`
	g, err := Parse([]byte(two), "https://x.example/feed", fixNow)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.Entries[0].Text, "Storm hits the coast.") {
		t.Errorf("a sentence two items share was taken out: %q", g.Entries[0].Text)
	}
	// "U.S." opening every item is cut off as a piece, but is no sentence.
	us := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link><description>d</description>
<item><guid>1</guid><title>A</title><description>U.S. stocks rose on Friday.</description></item>
<item><guid>2</guid><title>B</title><description>U.S. Treasury yields fell.</description></item>
<item><guid>3</guid><title>C</title><description>U.S. jobs report beats forecasts.</description></item>
</channel></rss>`
	u, err := Parse([]byte(us), "https://x.example/feed", fixNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range u.Entries {
		if !strings.HasPrefix(e.Text, "U.S. ") {
			t.Errorf("text %q lost its U.S.", e.Text)
		}
	}
	// Japanese ends a sentence with 。 and no space.
	ja := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link><description>d</description>
<item><guid>1</guid><title>A</title><description>東京で震度5弱の地震。この記事は東京新聞のサイトに掲載されました。</description></item>
<item><guid>2</guid><title>B</title><description>新型iPhoneを発表。この記事は東京新聞のサイトに掲載されました。</description></item>
<item><guid>3</guid><title>C</title><description>台風が九州に上陸！この記事は東京新聞のサイトに掲載されました。</description></item>
</channel></rss>`
	j, err := Parse([]byte(ja), "https://x.example/feed", fixNow)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"東京で震度5弱の地震。", "新型iPhoneを発表。", "台風が九州に上陸！"} {
		if got := j.Entries[i].Text; got != want {
			t.Errorf("Japanese item %d text %q, want %q", i, got, want)
		}
	}
}
