package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var fixedNow = time.Date(2025, 3, 15, 12, 0, 0, 0, time.UTC)

const tinyFeed = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A</title></item></channel></rss>`

// headerLog remembers the request headers each path saw.
type headerLog struct {
	mu   sync.Mutex
	seen map[string][]http.Header
}

func (l *headerLog) add(path string, h http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = make(map[string][]http.Header)
	}
	l.seen[path] = append(l.seen[path], h.Clone())
}

func (l *headerLog) get(path string) []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[path]
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	bombOnce sync.Once
	bomb     []byte
)

// gzipBomb is 8 MiB of zeros, about 8 KiB on the wire, built once.
func gzipBomb(t testing.TB) []byte {
	bombOnce.Do(func() { bomb = gzipBytes(t, make([]byte, 8<<20)) })
	return bomb
}

func newFeedServer(t *testing.T, log *headerLog) *httptest.Server {
	t.Helper()
	const etag, lastMod = `"v1"`, "Sat, 15 Mar 2025 10:00:00 GMT"
	bomb := gzipBomb(t)
	gz := gzipBytes(t, []byte(tinyFeed))

	mux := http.NewServeMux()
	redirect := func(path, to string, code int) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, to, code)
		})
	}
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		log.add(r.URL.Path, r.Header)
		if r.Header.Get("If-None-Match") == etag && r.Header.Get("If-Modified-Since") == lastMod {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, tinyFeed)
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, r *http.Request) {
		log.add(r.URL.Path, r.Header)
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz)
	})
	redirect("/moved-1", "/moved-2", http.StatusMovedPermanently)
	redirect("/moved-2", "/feed", http.StatusPermanentRedirect)
	redirect("/found", "/feed", http.StatusFound)
	redirect("/temp", "/feed", http.StatusTemporaryRedirect)
	redirect("/mixed-1", "/mixed-2", http.StatusMovedPermanently)
	redirect("/mixed-2", "/feed", http.StatusFound)
	redirect("/loop-a", "/loop-b", http.StatusMovedPermanently)
	redirect("/loop-b", "/loop-a", http.StatusMovedPermanently)
	for i := 1; i <= 10; i++ {
		redirect(fmt.Sprintf("/chain/%d", i), fmt.Sprintf("/chain/%d", i-1), http.StatusMovedPermanently)
	}
	mux.HandleFunc("/chain/0", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tinyFeed) })
	status := func(path string, code int, retryAfter string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			http.Error(w, "nope", code)
		})
	}
	status("/gone", http.StatusGone, "")
	status("/boom", http.StatusInternalServerError, "")
	status("/rate-secs", http.StatusTooManyRequests, "120")
	status("/rate-date", http.StatusServiceUnavailable, fixedNow.Add(90*time.Second).Format(http.TimeFormat))
	status("/rate-past", http.StatusTooManyRequests, fixedNow.Add(-time.Hour).Format(http.TimeFormat))
	status("/rate-huge", http.StatusTooManyRequests, "99999999")
	status("/rate-junk", http.StatusTooManyRequests, "soon")
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(2<<20))
		w.Write(make([]byte, 2<<20))
	})
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for range 32 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	})
	stall := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	mux.HandleFunc("/stall", stall)
	mux.HandleFunc("/stall-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte("<rss"))
		w.(http.Flusher).Flush()
		stall(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestFetch(t *testing.T) {
	var log headerLog
	srv := newFeedServer(t, &log)
	f := &Fetcher{
		UserAgent:    "storyline-test/1.0 (+https://example.test)",
		Timeout:      5 * time.Second,
		MaxBodyBytes: 1 << 20,
		Now:          func() time.Time { return fixedNow },
	}
	slow := &Fetcher{Timeout: 200 * time.Millisecond}

	wantHTTPError := func(status int, retryAfter time.Duration) func(*testing.T, *Response, error) {
		return func(t *testing.T, _ *Response, err error) {
			var herr *HTTPError
			if !errors.As(err, &herr) {
				t.Fatalf("err = %v, want *HTTPError", err)
			}
			if herr.Status != status || herr.RetryAfter != retryAfter {
				t.Errorf("got status %d retry %v, want %d retry %v", herr.Status, herr.RetryAfter, status, retryAfter)
			}
			if !strings.Contains(herr.Error(), herr.URL) {
				t.Errorf("error %q does not name the URL", herr)
			}
		}
	}
	wantErr := func(target error, mention string) func(*testing.T, *Response, error) {
		return func(t *testing.T, resp *Response, err error) {
			if err == nil {
				t.Fatalf("no error, response %+v", resp)
			}
			if target != nil && !errors.Is(err, target) {
				t.Errorf("err = %v, want %v", err, target)
			}
			if !strings.Contains(err.Error(), mention) {
				t.Errorf("err %q does not mention %q", err, mention)
			}
		}
	}
	wantBody := func(permanent string) func(*testing.T, *Response, error) {
		return func(t *testing.T, resp *Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tinyFeed {
				t.Errorf("body = %q", resp.Body)
			}
			if resp.PermanentURL != permanent {
				t.Errorf("PermanentURL = %q, want %q", resp.PermanentURL, permanent)
			}
			if resp.URL != srv.URL+"/feed" {
				t.Errorf("URL = %q", resp.URL)
			}
		}
	}

	tests := []struct {
		name    string
		path    string
		fetcher *Fetcher
		check   func(*testing.T, *Response, error)
	}{
		{"ok", "/feed", f, func(t *testing.T, resp *Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 200 || resp.NotModified || resp.ETag != `"v1"` ||
				resp.LastModified == "" || resp.MaxAge != 10*time.Minute || resp.ContentType != "application/rss+xml" {
				t.Errorf("response = %+v", resp)
			}
			h := log.get("/feed")[0]
			if got := h.Get("User-Agent"); got != f.UserAgent {
				t.Errorf("User-Agent = %q", got)
			}
			if !strings.Contains(h.Get("Accept"), "application/rss+xml") || h.Get("Accept-Encoding") != "gzip" {
				t.Errorf("Accept = %q, Accept-Encoding = %q", h.Get("Accept"), h.Get("Accept-Encoding"))
			}
		}},
		{"gzip decoded", "/gzip", f, func(t *testing.T, resp *Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tinyFeed {
				t.Errorf("body = %q", resp.Body)
			}
		}},
		{"301 then 308 is permanent", "/moved-1", f, wantBody(srv.URL + "/feed")},
		{"302 is not permanent", "/found", f, wantBody("")},
		{"307 is not permanent", "/temp", f, wantBody("")},
		{"301 then 302 is not permanent", "/mixed-1", f, wantBody("")},
		{"no redirect", "/feed", f, wantBody("")},
		{"410 gone", "/gone", f, func(t *testing.T, resp *Response, err error) {
			wantHTTPError(410, 0)(t, resp, err)
			var herr *HTTPError
			if errors.As(err, &herr) && !herr.Gone() {
				t.Error("Gone() = false")
			}
		}},
		{"500", "/boom", f, func(t *testing.T, resp *Response, err error) {
			wantHTTPError(500, 0)(t, resp, err)
			var herr *HTTPError
			if errors.As(err, &herr) && (herr.Gone() || !herr.Temporary()) {
				t.Error("500 should be temporary and not gone")
			}
		}},
		{"429 retry-after seconds", "/rate-secs", f, wantHTTPError(429, 2*time.Minute)},
		{"503 retry-after date", "/rate-date", f, wantHTTPError(503, 90*time.Second)},
		{"429 retry-after in the past", "/rate-past", f, wantHTTPError(429, 0)},
		{"429 retry-after clamped", "/rate-huge", f, wantHTTPError(429, 24*time.Hour)},
		{"429 retry-after junk", "/rate-junk", f, wantHTTPError(429, 0)},
		{"redirect loop", "/loop-a", f, wantErr(ErrRedirectLoop, "redirect")},
		{"too many redirects", "/chain/10", f, wantErr(ErrTooManyRedirects, "redirects")},
		{"five redirects are fine", "/chain/5", f, func(t *testing.T, resp *Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if resp.PermanentURL != srv.URL+"/chain/0" {
				t.Errorf("PermanentURL = %q", resp.PermanentURL)
			}
		}},
		{"body over cap", "/big", f, wantErr(ErrTooLarge, "too large")},
		{"chunked body over cap", "/big-chunked", f, wantErr(ErrTooLarge, "too large")},
		{"gzip bomb", "/bomb", f, wantErr(ErrTooLarge, "too large")},
		{"stall before headers", "/stall", slow, wantErr(ErrTimeout, "timeout")},
		{"stall in body", "/stall-body", slow, wantErr(ErrTimeout, "timeout")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			resp, err := tc.fetcher.Fetch(context.Background(), Request{URL: srv.URL + tc.path})
			tc.check(t, resp, err)
			if err != nil {
				t.Log(err)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}

func TestFetchConditional(t *testing.T) {
	var log headerLog
	srv := newFeedServer(t, &log)
	f := NewFetcher("")
	first, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/feed"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/feed", ETag: first.ETag, LastModified: first.LastModified})
	if err != nil {
		t.Fatal(err)
	}
	if !second.NotModified || second.Status != http.StatusNotModified || len(second.Body) != 0 {
		t.Errorf("second response = %+v, want 304", second)
	}
	seen := log.get("/feed")
	if len(seen) != 2 {
		t.Fatalf("server saw %d requests", len(seen))
	}
	if seen[0].Get("If-None-Match") != "" || seen[0].Get("If-Modified-Since") != "" {
		t.Errorf("first request was conditional: %v", seen[0])
	}
	if seen[1].Get("If-None-Match") != `"v1"` || seen[1].Get("If-Modified-Since") != first.LastModified {
		t.Errorf("second request headers: %v", seen[1])
	}
	if ua := seen[1].Get("User-Agent"); !strings.HasPrefix(ua, "storyline/") {
		t.Errorf("default User-Agent = %q", ua)
	}
}

func TestFetchCallerCancel(t *testing.T) {
	var log headerLog
	srv := newFeedServer(t, &log)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err := (&Fetcher{}).Fetch(ctx, Request{URL: srv.URL + "/stall"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want context.Canceled and not a timeout", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"30", 30 * time.Second},
		{" 30 ", 30 * time.Second},
		{"-5", 0},
		{"86401", 24 * time.Hour},
		{fixedNow.Add(time.Hour).Format(http.TimeFormat), time.Hour},
		{fixedNow.Add(48 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{"Sunday, 16-Mar-25 12:00:00 GMT", 24 * time.Hour}, // RFC 850 form
		{"tomorrow", 0},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := parseRetryAfter(tc.in, fixedNow); got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

// TestFetchErrorSaysTheURLOnce: a failed fetch names its URL once, not
// again inside net/http's "Get \"URL\": ..." text, and says where a
// redirect led when that is where it failed.
func TestFetchErrorSaysTheURLOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	gone := closed.URL + "/feed.xml"
	closed.Close()
	for _, u := range []string{gone, srv.URL + "/start"} {
		_, err := (&Fetcher{}).Fetch(context.Background(), Request{URL: u})
		if err == nil {
			t.Fatalf("%s: no error", u)
		}
		if n := strings.Count(err.Error(), u); n != 1 {
			t.Errorf("%s: the URL is said %d times in %q", u, n, err)
		}
		if strings.Contains(err.Error(), `Get "`) {
			t.Errorf("%s: %q repeats net/http's request line", u, err)
		}
	}
}
