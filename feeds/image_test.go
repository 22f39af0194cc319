package feeds

import (
	"strings"
	"testing"
	"time"
)

func TestEntryImage(t *testing.T) {
	doc := `<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>Pictures</title><link>https://pics.example/</link>
<item><title>Thumbnail</title><link>https://pics.example/a</link>
  <media:thumbnail url="https://img.example/a-thumb.jpg" width="240" height="135"/>
  <enclosure url="https://img.example/a-enclosure.jpg" type="image/jpeg" length="1"/></item>
<item><title>Grouped</title><link>https://pics.example/b</link>
  <media:group><media:content url="https://img.example/b.mp4" type="video/mp4"><media:thumbnail url="/b-thumb.jpg"/></media:content></media:group></item>
<item><title>Enclosure</title><link>https://pics.example/c</link>
  <enclosure url="https://img.example/c.png" type="image/png" length="1"/></item>
<item><title>Audio only</title><link>https://pics.example/d</link>
  <enclosure url="https://img.example/d.mp3" type="audio/mpeg" length="1"/></item>
<item><title>In the text</title><link>https://pics.example/e/</link>
  <description><![CDATA[<p><img src="https://t.example/pixel.gif" width="1" height="1"> Words. <img src="pic.jpg" alt="x"></p>]]></description></item>
<item><title>Script URL</title><link>https://pics.example/f</link>
  <media:thumbnail url="javascript:alert(1)"/></item>
</channel></rss>`
	f, err := Parse([]byte(doc), "https://pics.example/feed", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://img.example/a-thumb.jpg",
		"https://pics.example/b-thumb.jpg",
		"https://img.example/c.png",
		"",
		"https://pics.example/e/pic.jpg",
		"",
	}
	for i, e := range f.Entries {
		if e.Image != want[i] {
			t.Errorf("%s: image %q, want %q", e.Title, e.Image, want[i])
		}
	}
}

func TestEntryImageJSONAndAtom(t *testing.T) {
	j := `{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
		{"id":"1","url":"https://j.example/1","title":"One","image":"https://img.example/j1.jpg","content_text":"x"},
		{"id":"2","url":"https://j.example/2","title":"Two","content_html":"<p><img src=\"/j2.jpg\"></p>"}]}`
	f, err := Parse([]byte(j), "https://j.example/feed.json", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if f.Entries[0].Image != "https://img.example/j1.jpg" || f.Entries[1].Image != "https://j.example/j2.jpg" {
		t.Errorf("JSON Feed images: %q, %q", f.Entries[0].Image, f.Entries[1].Image)
	}
	a := `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2026-12-01T00:00:00Z</updated>
<entry><title>Atom</title><id>urn:a:1</id><updated>2026-12-01T00:00:00Z</updated><link href="https://a.example/1"/>
<link rel="enclosure" type="image/webp" href="https://img.example/a1.webp"/></entry></feed>`
	f, err = Parse([]byte(a), "https://a.example/feed.atom", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Entries[0].Image; !strings.HasSuffix(got, "a1.webp") {
		t.Errorf("Atom enclosure image: %q", got)
	}
}
