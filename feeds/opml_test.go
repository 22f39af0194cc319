package feeds

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestOPMLRoundTrip(t *testing.T) {
	subs, err := ReadOPML(bytes.NewReader(readFixture(t, "subscriptions.opml")))
	if err != nil {
		t.Fatal(err)
	}
	want := []Subscription{
		{URL: "https://gazette.example/rss.xml", Title: "Harbor Town Gazette", SiteLink: "https://gazette.example/"},
		{URL: "https://valley.example/rss", Title: `Valley "Courier" & Co`, SiteLink: "https://valley.example/"},
		{URL: "https://delta.example/feed.json?a=1&b=2", Title: "Delta Daily"},
	}
	if !slices.Equal(subs, want) {
		t.Fatalf("ReadOPML = %+v\nwant %+v", subs, want)
	}

	// Titles that need escaping or are missing must survive a round trip.
	subs = append(subs,
		Subscription{URL: "https://odd.example/rss?x=<1>", Title: "A <b>bold</b> & 'quoted' \"title\"\nwith newline"},
		Subscription{URL: "https://untitled.example/feed"},
	)
	var buf bytes.Buffer
	if err := WriteOPML(&buf, "storyline & friends", subs); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{`<?xml version="1.0" encoding="UTF-8"?>`, `<opml version="2.0">`, "<title>storyline &amp; friends</title>", `type="rss"`} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	if err := xml.Unmarshal(buf.Bytes(), new(struct{})); err != nil {
		t.Errorf("output is not well-formed XML: %v", err)
	}
	again, err := ReadOPML(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again, subs) {
		t.Errorf("round trip changed the list:\n got %+v\nwant %+v", again, subs)
	}
}

func TestReadOPMLErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "no <opml> element"},
		{"RSS instead", string(readFixture(t, "rss091.xml")), "root element is <rss>, not <opml>"},
		{"HTML instead", "<!DOCTYPE html><html><body>hi</body></html>", "root element is <html>"},
		{"not XML", "name,url\nA,https://a.example/", "no <opml> element"},
		{"broken XML", `<opml version="2.0"><body><outline xmlUrl="x"`, "read OPML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadOPML(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestOPMLEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteOPML(&buf, "", nil); err != nil {
		t.Fatal(err)
	}
	subs, err := ReadOPML(&buf)
	if err != nil || len(subs) != 0 {
		t.Errorf("ReadOPML(empty export) = %v, %v", subs, err)
	}
}

// endlessOPML is an OPML document that never ends: only a reader that
// streams gets anywhere with it.
type endlessOPML struct {
	n   int
	buf []byte
}

func (r *endlessOPML) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.n == 0 {
			r.buf = []byte(`<?xml version="1.0"?><opml version="2.0"><body>`)
		}
		r.n++
		r.buf = append(r.buf, fmt.Sprintf(`<outline type="rss" text="Feed %d" xmlUrl="https://f%d.example/rss"/>`, r.n, r.n)...)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func TestScanOPMLStreams(t *testing.T) {
	r := &endlessOPML{}
	got := 0
	for s, err := range ScanOPML(r) {
		if err != nil {
			t.Fatal(err)
		}
		got++
		if s.URL != fmt.Sprintf("https://f%d.example/rss", got) || s.Title != fmt.Sprintf("Feed %d", got) {
			t.Fatalf("subscription %d = %+v", got, s)
		}
		if got == 100_000 {
			break
		}
	}
	// The decoder reads ahead a little, not the document.
	if r.n > got+1000 {
		t.Errorf("%d outlines read to yield %d", r.n, got)
	}
}

// FuzzScanOPML checks that whatever an OPML file holds, ReadOPML lists
// what ScanOPML yields without its repeats, every subscription has a URL,
// and WriteOPML writes a list that reads back the same.
func FuzzScanOPML(f *testing.F) {
	f.Add(readFixture(f, "subscriptions.opml"))
	for _, seed := range []string{
		`<?xml version="1.0"?><opml version="2.0"><body><outline text="A" xmlUrl="https://a.example/rss" htmlUrl="https://a.example/"/></body></opml>`,
		`<opml><body><outline text="F"><outline xmlurl=" http://b.example/f " title="B &amp; C" text="x"/><outline XMLURL="http://b.example/f"/></outline></body></opml>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><opml><body><outline text="Caf` + "\xe9" + `" xmlUrl="https://c.example/"/></body></opml>`,
		`<opml><body><outline text="https://d.example/" xmlUrl="https://d.example/"/><outline xmlUrl="&#xD;&#x9;x&#xA;y" text="&lt;"/>`,
		`<rss version="2.0"></rss>`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var scanned []Subscription
		var scanErr error
		for s, err := range ScanOPML(bytes.NewReader(doc)) {
			if err != nil {
				scanErr = err
				break
			}
			if s.URL == "" {
				t.Fatalf("subscription without a URL: %+v", s)
			}
			scanned = append(scanned, s)
		}
		subs, err := ReadOPML(bytes.NewReader(doc))
		if (err == nil) != (scanErr == nil) {
			t.Fatalf("ReadOPML error %v, ScanOPML error %v", err, scanErr)
		}
		if err != nil {
			return
		}
		var want []Subscription
		seen := make(map[string]bool)
		for _, s := range scanned {
			if !seen[s.URL] {
				seen[s.URL] = true
				want = append(want, s)
			}
		}
		if !slices.Equal(subs, want) {
			t.Fatalf("ReadOPML = %q\nScanOPML without repeats = %q", subs, want)
		}
		var buf bytes.Buffer
		if err := WriteOPML(&buf, "Fuzz", subs); err != nil {
			t.Fatal(err)
		}
		back, err := ReadOPML(&buf)
		if err != nil {
			t.Fatalf("WriteOPML wrote what ReadOPML refuses: %v\n%s", err, buf.Bytes())
		}
		if !slices.Equal(back, subs) {
			t.Fatalf("read back %q\nwritten %q\n%s", back, subs, buf.Bytes())
		}
	})
}
