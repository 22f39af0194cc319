package poller

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newTest(t *testing.T) (*sqlite.DB, *Poller) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return t0 }
	p := &Poller{
		Ingest:  ingest.New(db, cluster.DefaultConfig()),
		Fetcher: &feeds.Fetcher{UserAgent: "storyline-test", Timeout: 2 * time.Second},
		Now:     func() time.Time { return t0 },
		Jitter:  func(d time.Duration) time.Duration { return d }, // exact times in tests
	}
	return db, p
}

func pollURL(t *testing.T, db *sqlite.DB, p *Poller, url string) (Outcome, store.Feed) {
	t.Helper()
	ctx := context.Background()
	f, err := db.Feed(ctx, url)
	if err != nil {
		f, err = db.AddFeed(ctx, store.NewFeed{URL: url})
		if err != nil {
			t.Fatal(err)
		}
	}
	out, err := p.Poll(ctx, []store.Feed{f})
	if err != nil || len(out) != 1 {
		t.Fatalf("Poll = %v, %v", out, err)
	}
	after, err := db.Feed(ctx, fmt.Sprint(f.ID))
	if err != nil {
		t.Fatal(err)
	}
	return out[0], after
}

func TestPollOutcomes(t *testing.T) {
	body, err := os.ReadFile("testdata/news.rss")
	if err != nil {
		t.Fatal(err)
	}
	var mux http.ServeMux
	var conditional atomic.Int32
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` && r.Header.Get("If-Modified-Since") == "Wed, 25 Nov 2026 10:30:00 GMT" {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Wed, 25 Nov 2026 10:30:00 GMT")
		w.Write(body)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/feed", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/temp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/feed", http.StatusFound)
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	})
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7200")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	})
	mux.HandleFunc("/site", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><html><head><title>Harbour Gazette</title>
<link rel="alternate" type="application/rss+xml" href="/feed"></head><body>News</body></html>`))
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><html><head><title>Hi</title></head><body>No feed here</body></html>"))
	})
	srv := httptest.NewServer(&mux)
	defer srv.Close()

	t.Run("304 stores nothing new", func(t *testing.T) {
		db, p := newTest(t)
		o, f := pollURL(t, db, p, srv.URL+"/feed")
		if o.Kind != KindNew || o.Stats.New != 2 || f.ETag != `"v1"` {
			t.Fatalf("first poll: %+v, feed %+v", o, f)
		}
		// ttl 60 in the feed beats the 30 min default.
		if want := t0.Add(time.Hour); !f.NextPollAt.Equal(want) {
			t.Errorf("next poll %v, want %v (the feed's ttl)", f.NextPollAt, want)
		}
		o, _ = pollURL(t, db, p, srv.URL+"/feed")
		if o.Kind != KindNotModified || conditional.Load() != 1 {
			t.Fatalf("second poll: %+v, conditional requests %d", o, conditional.Load())
		}
		es, _ := db.Entries(context.Background(), store.EntryQuery{})
		if len(es) != 2 {
			t.Errorf("%d entries, want 2", len(es))
		}
		if es[1].Entry.Link != "https://harbour-gazette.example/ferry-winter" {
			t.Errorf("link not canonical: %q", es[1].Entry.Link)
		}
	})
	t.Run("301 moves the feed", func(t *testing.T) {
		db, p := newTest(t)
		o, f := pollURL(t, db, p, srv.URL+"/moved")
		if o.Kind != KindNew || f.URL != srv.URL+"/feed" {
			t.Errorf("after 301: %+v, url %q", o.Kind, f.URL)
		}
	})
	t.Run("a page is followed to the feed it announces", func(t *testing.T) {
		// As an OPML entry or a config line may name a site's page.
		db, p := newTest(t)
		o, f := pollURL(t, db, p, srv.URL+"/site")
		if o.Kind != KindNew || o.Stats.New != 2 || f.URL != srv.URL+"/feed" || f.Errors != 0 {
			t.Errorf("poll of a page with a feed link: %+v, feed %+v", o, f)
		}
	})
	t.Run("302 keeps the URL", func(t *testing.T) {
		db, p := newTest(t)
		o, f := pollURL(t, db, p, srv.URL+"/temp")
		if o.Kind != KindNew || f.URL != srv.URL+"/temp" {
			t.Errorf("after 302: %+v, url %q", o.Kind, f.URL)
		}
	})
	t.Run("410 disables", func(t *testing.T) {
		db, p := newTest(t)
		o, f := pollURL(t, db, p, srv.URL+"/gone")
		if o.Kind != KindError || !f.Disabled || !strings.Contains(f.DisabledReason, "410") || f.LastStatus != 410 {
			t.Errorf("after 410: %+v, feed %+v", o, f)
		}
	})
	t.Run("429 honours Retry-After", func(t *testing.T) {
		db, p := newTest(t)
		_, f := pollURL(t, db, p, srv.URL+"/busy")
		if want := t0.Add(2 * time.Hour); !f.NextPollAt.Equal(want) || f.Errors != 1 || f.LastStatus != 429 {
			t.Errorf("after 429: next %v (want %v), feed %+v", f.NextPollAt, want, f)
		}
	})
	t.Run("500 backs off", func(t *testing.T) {
		db, p := newTest(t)
		var nexts []time.Time
		for range 3 {
			_, f := pollURL(t, db, p, srv.URL+"/broken")
			nexts = append(nexts, f.NextPollAt)
			if !strings.Contains(f.LastError, "500") || f.LastStatus != 500 {
				t.Errorf("error not recorded: %+v", f)
			}
		}
		// 30 min default interval x 2^errors.
		for i, want := range []time.Duration{time.Hour, 2 * time.Hour, 4 * time.Hour} {
			if !nexts[i].Equal(t0.Add(want)) {
				t.Errorf("after error %d: next poll in %v, want %v", i+1, nexts[i].Sub(t0), want)
			}
		}
		f, _ := db.Feed(context.Background(), srv.URL+"/broken")
		if f.Errors != 3 {
			t.Errorf("consecutive errors = %d, want 3", f.Errors)
		}
	})
	t.Run("success resets the error count", func(t *testing.T) {
		db, p := newTest(t)
		ctx := context.Background()
		f, _ := db.AddFeed(ctx, store.NewFeed{URL: srv.URL + "/feed"})
		p.Ingest.SavePolls(ctx, []store.PollResult{{FeedID: f.ID, PolledAt: t0, Err: "earlier failure", Errors: 4}})
		_, f = pollURL(t, db, p, srv.URL+"/feed")
		if f.Errors != 0 || f.LastError != "" {
			t.Errorf("after success: %+v", f)
		}
	})
	t.Run("HTML page is a clear error", func(t *testing.T) {
		db, p := newTest(t)
		o, f := pollURL(t, db, p, srv.URL+"/page")
		if o.Kind != KindError || !strings.Contains(f.LastError, "HTML") {
			t.Errorf("HTML page: %+v, last error %q", o.Kind, f.LastError)
		}
	})
}

func TestPerHostLimit(t *testing.T) {
	body, _ := os.ReadFile("testdata/news.rss")
	var inFlight, peak atomic.Int32
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		mu.Lock()
		if n > peak.Load() {
			peak.Store(n)
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		w.Write(body)
	}))
	defer srv.Close()
	db, p := newTest(t)
	ctx := context.Background()
	var fs []store.Feed
	for i := range 12 {
		f, err := db.AddFeed(ctx, store.NewFeed{URL: srv.URL + "/f" + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	out, err := p.Poll(ctx, fs)
	if err != nil || len(out) != 12 {
		t.Fatalf("Poll: %d outcomes, %v", len(out), err)
	}
	if peak.Load() > 2 {
		t.Errorf("%d requests in flight to one host, want at most 2", peak.Load())
	}
	for _, o := range out {
		if o.Kind != KindNew {
			t.Errorf("feed %s: %s %v", o.Feed.URL, o.Kind, o.Err)
		}
	}
}

// A per-feed interval below the floor (set through an old database or a
// direct edit) is raised to it: politeness does not rely on validation
// elsewhere.
func TestIntervalFloor(t *testing.T) {
	cfg := Config{}.withDefaults()
	if got := baseInterval(cfg, store.Feed{Interval: time.Second}); got != 5*time.Minute {
		t.Errorf("1 s feed interval polled every %v, want the 5 min floor", got)
	}
	if got := baseInterval(cfg, store.Feed{Interval: 2 * time.Hour}); got != 2*time.Hour {
		t.Errorf("2 h feed interval became %v", got)
	}
}

// TestRoundClusteredInTimeOrder: feeds that answer one after the other,
// the later news first, are saved as they come and clustered at the end of
// the round, oldest story first: the storylines open in the order of their
// stories' times, not of the fetches.
func TestRoundClusteredInTimeOrder(t *testing.T) {
	const n = 4
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Feed i answers after feed i-1 and carries older news.
		i, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/f"))
		time.Sleep(time.Duration(i) * 50 * time.Millisecond)
		at := t0.Add(-time.Duration(i) * 24 * time.Hour).Format(time.RFC1123Z)
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet %d</title>
<item><title>Unrelated%d happening number%d in place%d</title><guid>s%d</guid><pubDate>%s</pubDate></item>
</channel></rss>`, i, i, i, i, i, at)
	}))
	defer srv.Close()
	db, p := newTest(t)
	ctx := context.Background()
	var fs []store.Feed
	for i := range n {
		f, err := db.AddFeed(ctx, store.NewFeed{URL: fmt.Sprintf("%s/f%d", srv.URL, i)})
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	if out, err := p.Poll(ctx, fs); err != nil || len(out) != n {
		t.Fatalf("Poll: %d outcomes, %v", len(out), err)
	}
	ts, err := db.Topics(ctx, store.TopicQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != n {
		t.Fatalf("%d storylines, want %d", len(ts), n)
	}
	slices.SortFunc(ts, func(a, b store.Topic) int { return a.First.Compare(b.First) })
	for i := 1; i < n; i++ {
		if ts[i].ID < ts[i-1].ID {
			t.Errorf("storyline %d (from %v) opened before %d (from %v): clustered in fetch order", ts[i].ID, ts[i].First, ts[i-1].ID, ts[i-1].First)
		}
	}
}

// TestRunClustersLeftovers: stories saved and not clustered (the process
// stopped between the two steps) are clustered when the scheduler starts,
// though no feed is due.
func TestRunClustersLeftovers(t *testing.T) {
	db, p := newTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := db.AddFeed(ctx, store.NewFeed{URL: "https://leftover.example/feed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ingest.SavePolls(ctx, []store.PollResult{{FeedID: f.ID, PolledAt: t0, Status: 200, NextPollAt: t0.Add(time.Hour),
		Entries: []feeds.Entry{{ID: "1", Title: "Harbour bridge closed", Published: t0}}}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, db, time.Hour, func(err error) { t.Error(err) }) }()
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		ts, err := db.Topics(ctx, store.TopicQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) == 1 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the saved story was not clustered")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
