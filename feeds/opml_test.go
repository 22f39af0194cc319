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
