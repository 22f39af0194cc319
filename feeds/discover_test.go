package feeds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestDiscover(t *testing.T) {
	withLinks := readFixture(t, "page_with_links.html")
	withoutLinks := readFixture(t, "page_without_links.html")
	rss := readFixture(t, "rss20.xml")
	atom := readFixture(t, "atom10.xml")
	jsonFeed := readFixture(t, "jsonfeed11.json")

	serve := func(routes map[string][]byte) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, ok := routes[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Write(body)
		}))
		t.Cleanup(srv.Close)
		return srv
	}

	tests := []struct {
		name   string
		routes map[string][]byte
		page   string
		want   func(base string) []string
	}{
		{"link tags", map[string][]byte{"/blog/": withLinks}, "/blog/", func(base string) []string {
			return []string{base + "/rss.xml", "https://gazette.example/atom.xml", base + "/blog/feed.json"}
		}},
		{"common paths fallback", map[string][]byte{
			"/":          withoutLinks,
			"/rss.xml":   rss,
			"/index.xml": withoutLinks, // a page, not a feed
			"/feed.json": jsonFeed,
		}, "/", func(base string) []string {
			return []string{base + "/rss.xml", base + "/feed.json"}
		}},
		{"page is a feed", map[string][]byte{"/atom": atom}, "/atom", func(base string) []string {
			return []string{base + "/atom"}
		}},
		{"nothing found", map[string][]byte{"/": withoutLinks}, "/", func(string) []string { return nil }},
	}
	f := &Fetcher{Timeout: 5 * time.Second}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(tc.routes)
			got, err := Discover(context.Background(), f, srv.URL+tc.page)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want(srv.URL); !slices.Equal(got, want) {
				t.Errorf("Discover = %q, want %q", got, want)
			}
		})
	}

	t.Run("page missing", func(t *testing.T) {
		srv := serve(nil)
		if _, err := Discover(context.Background(), f, srv.URL+"/"); err == nil {
			t.Error("no error for a 404 page")
		}
	})
}

// FuzzFeedLinks checks that whatever a page holds, the feeds it announces
// come back as absolute http(s) URLs, each once, that read back as they
// are written (they are stored and compared as strings).
func FuzzFeedLinks(f *testing.F) {
	f.Add(readFixture(f, "page_with_links.html"), "https://gazette.example/blog/")
	f.Add(readFixture(f, "page_without_links.html"), "http://quiet.example/")
	for _, page := range []string{
		`<head><base href="/news/"><link rel="ALTERNATE feed" type="application/atom+xml; charset=utf-8" href=" atom.xml "></head>`,
		`<link rel=alternate type=application/rss+xml href="//cdn.example/rss"><link rel=alternate type=application/json href="javascript:alert(1)">`,
		`<base href="ftp://x.example/"><link rel="alternate" type="application/feed+json" href="feed.json"><body><link rel="alternate" type="application/rss+xml" href="/late">`,
		`<link rel="alternate" type="application/rss+xml" href="https://User:pw@Host.EXAMPLE:8080/a b?q=1#f"><link rel="alternate" type="application/rss+xml" href="%zz">`,
	} {
		f.Add([]byte(page), "https://site.example/a/b")
	}
	f.Fuzz(func(t *testing.T, page []byte, rawBase string) {
		base, err := url.Parse(rawBase)
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return // a page is always fetched from an http(s) URL
		}
		links := FeedLinks(page, base)
		for i, l := range links {
			u, err := url.Parse(l)
			if err != nil {
				t.Fatalf("link %q does not parse: %v", l, err)
			}
			if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
				t.Fatalf("link %q is not an absolute http(s) URL", l)
			}
			if u.String() != l {
				t.Fatalf("link %q reads back as %q", l, u.String())
			}
			if slices.Contains(links[:i], l) {
				t.Fatalf("link %q listed twice: %q", l, links)
			}
		}
	})
}
