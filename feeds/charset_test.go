package feeds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// TestHTTPCharset: the Content-Type charset is used where the body is
// silent (a Cyrillic feed in windows-1251 with no encoding declaration) and
// ignored where the body speaks for itself (an encoding declaration, or
// bytes that are valid UTF-8 under a server's wrong default).
func TestHTTPCharset(t *testing.T) {
	utf8Feed := []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>Zürich heute</title>` +
		`<link>https://z.example/</link><item><title>Straßenbahn fährt wieder</title>` +
		`<link>https://z.example/tram</link></item></channel></rss>`)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bodies := map[string][]byte{
		"/cp1251.xml": read("cp1251.xml"), "/latin1.xml": read("latin1.xml"), "/utf8.xml": utf8Feed,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("type"))
		w.Write(bodies[r.URL.Path])
	}))
	defer srv.Close()
	f := &Fetcher{}
	tests := []struct {
		path, contentType, title, item string
	}{
		{"/cp1251.xml", "text/xml; charset=windows-1251", "Вечерний вестник", "Мост через реку закрыт на ремонт"},
		{"/cp1251.xml", `application/rss+xml; charset="CP1251"`, "Вечерний вестник", "Мост через реку закрыт на ремонт"},
		// Without the header the bytes are read as windows-1252, the usual
		// undeclared legacy encoding: readable for Western feeds, not this one.
		{"/cp1251.xml", "text/xml", "Âå÷åðíèé âåñòíèê", "Ìîñò ÷åðåç ðåêó çàêðûò íà ðåìîíò"},
		// An unknown charset is no worse than none.
		{"/cp1251.xml", "text/xml; charset=x-nonsense", "Âå÷åðíèé âåñòíèê", "Ìîñò ÷åðåç ðåêó çàêðûò íà ðåìîíò"},
		{"/latin1.xml", "text/xml; charset=windows-1251", "Alpenblatt", "Zürich: Straßenbahn fährt wieder"},
		{"/utf8.xml", "text/xml; charset=iso-8859-1", "Zürich heute", "Straßenbahn fährt wieder"},
	}
	for _, tc := range tests {
		resp, err := f.Fetch(context.Background(), Request{URL: srv.URL + tc.path + "?type=" + url.QueryEscape(tc.contentType)})
		if err != nil {
			t.Fatalf("%s as %s: %v", tc.path, tc.contentType, err)
		}
		doc, err := ParseCharset(resp.Body, resp.Charset(), resp.URL, fixedNow)
		if err != nil {
			t.Fatalf("%s as %s: %v", tc.path, tc.contentType, err)
		}
		if doc.Title != tc.title || len(doc.Entries) != 1 || doc.Entries[0].Title != tc.item {
			t.Errorf("%s as %s: title %q, entries %+v; want %q, %q", tc.path, tc.contentType, doc.Title, doc.Entries, tc.title, tc.item)
		}
	}
}

func TestResponseCharset(t *testing.T) {
	for ct, want := range map[string]string{
		"text/xml; charset=UTF-8": "UTF-8", `text/xml; charset="koi8-r"`: "koi8-r",
		"application/atom+xml": "", "": "", "text/xml; charset": "", "garbage;;": "",
	} {
		if got := (&Response{ContentType: ct}).Charset(); got != want {
			t.Errorf("Charset of %q = %q, want %q", ct, got, want)
		}
	}
}
