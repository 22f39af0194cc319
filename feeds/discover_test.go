package feeds

import (
	"context"
	"net/http"
	"net/http/httptest"
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
