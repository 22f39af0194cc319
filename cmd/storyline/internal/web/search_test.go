package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// searchStore answers searches only. Each Search counts itself, records
// how many run at once, reports that it started on entered (when set) and
// returns when release is closed (when set) or its request ends.
type searchStore struct {
	Store // nil: any other call is a test bug and panics

	version atomic.Int64
	calls   atomic.Int64
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	running int
	maxSeen int
}

func (s *searchStore) DataVersion(context.Context) (store.DataVersion, error) {
	return store.DataVersion{Version: s.version.Load(), Changed: t0}, nil
}

func (s *searchStore) Search(ctx context.Context, query string, limit int) ([]store.StoredEntry, error) {
	s.calls.Add(1)
	s.mu.Lock()
	s.running++
	s.maxSeen = max(s.maxSeen, s.running)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running--
		s.mu.Unlock()
	}()
	if s.entered != nil {
		s.entered <- struct{}{}
	}
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return []store.StoredEntry{{ID: 1, FeedID: 1, FeedTitle: "Meridian Wire", FeedURL: "https://wire.example/feed",
		Entry: feeds.Entry{ID: "w1", Link: "https://wire.example/" + query, Title: "About " + query, Published: t0.Add(-time.Hour)}}}, nil
}

func newSearchServer(st Store, maxSearches int) *Server {
	return New(Options{Store: st, BaseURL: "https://storyline.example", MaxSearches: maxSearches,
		Now: func() time.Time { return t0 }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// TestSearchSlots fires more searches than there are slots at a store
// whose searches block: exactly the cap runs at once, and the rest are
// turned away with 503 and Retry-After once their wait ends, or run when a
// slot frees within it. The wait is set to zero or to an hour so that
// nothing depends on timing.
func TestSearchSlots(t *testing.T) {
	const slots, extra = 2, 3
	fire := func(srv *Server) <-chan *httptest.ResponseRecorder {
		out := make(chan *httptest.ResponseRecorder, slots+extra)
		for i := range slots + extra {
			go func() {
				rec := httptest.NewRecorder()
				// Distinct queries, so that none is answered from the cache.
				srv.ServeHTTP(rec, httptest.NewRequest("GET", fmt.Sprintf("/feed.json?q=bridge%d", i), nil))
				out <- rec
			}()
		}
		return out
	}

	t.Run("overflow turned away", func(t *testing.T) {
		st := &searchStore{entered: make(chan struct{}, slots+extra), release: make(chan struct{})}
		srv := newSearchServer(st, slots)
		srv.searches.wait = 0 // give up at once: the slot holders block until released
		results := fire(srv)
		entered, busy := 0, 0
		for entered < slots || busy < extra {
			select {
			case <-st.entered:
				entered++
				if entered > slots {
					close(st.release)
					t.Fatalf("%d searches running at once, want at most %d", entered, slots)
				}
			case rec := <-results:
				if rec.Code != http.StatusServiceUnavailable {
					close(st.release)
					t.Fatalf("a search beyond the cap got %d, want 503 (%s)", rec.Code, rec.Body)
				}
				busy++
				if got := rec.Header().Get("Retry-After"); got == "" {
					t.Error("503 without Retry-After")
				}
				if !strings.Contains(rec.Body.String(), "too many searches") {
					t.Errorf("503 body = %q", rec.Body)
				}
				if rec.Header().Get("Content-Security-Policy") == "" {
					t.Error("503 without the security headers")
				}
			}
		}
		close(st.release)
		for range slots {
			if rec := <-results; rec.Code != http.StatusOK {
				t.Errorf("a search holding a slot got %d: %s", rec.Code, rec.Body)
			}
		}
		if st.maxSeen != slots {
			t.Errorf("%d searches ran at once, want %d", st.maxSeen, slots)
		}
	})

	t.Run("queued searches run when a slot frees", func(t *testing.T) {
		st := &searchStore{entered: make(chan struct{}, slots+extra), release: make(chan struct{})}
		srv := newSearchServer(st, slots)
		srv.searches.wait = time.Hour // never gives up in this test
		results := fire(srv)
		for range slots {
			<-st.entered
		}
		close(st.release)
		for range slots + extra {
			if rec := <-results; rec.Code != http.StatusOK {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
			}
		}
		if st.maxSeen > slots {
			t.Errorf("%d searches ran at once, want at most %d", st.maxSeen, slots)
		}
		if n := st.calls.Load(); n != slots+extra {
			t.Errorf("%d searches reached the store, want %d", n, slots+extra)
		}
	})

	t.Run("client gone while waiting", func(t *testing.T) {
		st := &searchStore{entered: make(chan struct{}, 2), release: make(chan struct{})}
		srv := newSearchServer(st, 1)
		srv.searches.wait = time.Hour
		held := make(chan *httptest.ResponseRecorder, 1)
		go func() {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("GET", "/feed.json?q=held", nil))
			held <- rec
		}()
		<-st.entered
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/feed.json?q=gone", nil).WithContext(ctx))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("cancelled waiter got %d, want 503", rec.Code)
		}
		close(st.release)
		if rec := <-held; rec.Code != http.StatusOK {
			t.Errorf("slot holder got %d", rec.Code)
		}
	})
}

// TestSearchCached asks the same search again: while the data version
// stays, the store is searched once, however the query is spelled.
func TestSearchCached(t *testing.T) {
	st := &searchStore{}
	srv := newSearchServer(st, 0)
	get := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		return rec
	}
	first := get("/feed.json?q=bridge")
	again := get("/feed.json?limit=50&q=bridge+")
	if n := st.calls.Load(); n != 1 {
		t.Errorf("the same search reached the store %d times, want 1", n)
	}
	if first.Body.String() != again.Body.String() {
		t.Error("the repeat answered differently")
	}
	get("/feed.json?q=ferry")
	if n := st.calls.Load(); n != 2 {
		t.Errorf("another search: %d store searches, want 2", n)
	}
	st.version.Add(1)
	get("/feed.json?q=bridge")
	if n := st.calls.Load(); n != 3 {
		t.Errorf("after a data change: %d store searches, want 3", n)
	}
}
