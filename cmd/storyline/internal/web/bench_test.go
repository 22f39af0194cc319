package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// benchStore fills a store with n entries from 20 outlets: 400 made-up
// events reported in varied words, some articles syndicated by two outlets,
// saved in time order as the poller would, so that they cluster.
func benchStore(b *testing.B, n int) *store.DB {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return t0 }
	pipe := ingest.New(db, cluster.DefaultConfig())
	const outlets = 20
	var ids []int64
	for i := range outlets {
		f, err := db.AddFeed(ctx, store.NewFeed{URL: fmt.Sprintf("https://outlet%d.example/feed", i)})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	places := []string{"Valdoria", "Orland", "Harbour", "Northgate", "Meridian", "Lantern", "Kestrel", "Ambervale",
		"Corvin", "Dunmore", "Eastwick", "Fairhaven", "Glenrock", "Halden", "Ironbridge", "Juniper"}
	subjects := []string{"bridge", "election", "strike", "flood", "budget", "trial", "festival", "merger",
		"wildfire", "summit", "railway", "hospital", "stadium", "airport", "museum", "reservoir", "harvest", "vaccine",
		"treaty", "protest", "earthquake", "satellite", "pipeline", "referendum", "tournament"}
	verbs := []string{"closes", "sparks debate", "delayed again", "wins approval", "faces inquiry", "draws crowds",
		"under review", "hits record", "ends abruptly", "moves forward"}
	r := rand.New(rand.NewPCG(1, 2))
	start := t0.Add(-time.Duration(n) * time.Minute)
	batch := make([][]feeds.Entry, outlets)
	for i := range n {
		event := i / 25 // about 25 stories per event, in a burst
		place, subject := places[event%len(places)], subjects[(event/len(places))%len(subjects)]
		title := fmt.Sprintf("%s %s %s %s", place, subject, verbs[r.IntN(len(verbs))], fmt.Sprint(event))
		outlet := r.IntN(outlets)
		link := fmt.Sprintf("https://outlet%d.example/story/%d", outlet, i)
		if i%10 == 0 && i > 0 {
			// A syndicated copy of the previous article.
			link = fmt.Sprintf("https://wire.example/story/%d", i-1)
		} else if i%10 == 9 {
			link = fmt.Sprintf("https://wire.example/story/%d", i)
		}
		batch[outlet] = append(batch[outlet], feeds.Entry{
			ID: fmt.Sprint("e", i), Link: link, Title: title,
			Summary:   "<p>" + title + ". Officials said more details would follow later today.</p>",
			Text:      title + ". Officials said more details would follow later today.",
			Published: start.Add(time.Duration(i) * time.Minute),
		})
		if i%200 == 199 || i == n-1 {
			for o, es := range batch {
				if len(es) == 0 {
					continue
				}
				if _, err := pipe.SavePoll(ctx, store.PollResult{FeedID: ids[o], PolledAt: es[len(es)-1].Published,
					Status: 200, Title: fmt.Sprintf("Outlet %d", o), Entries: es}); err != nil {
					b.Fatal(err)
				}
				batch[o] = nil
			}
			if _, err := pipe.ClusterPending(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	return db
}

// BenchmarkFeedAtom serves /feed.atom (50 entries) from a store of 10,000
// entries: a full response, gzipped, and a revalidation with a matching
// ETag, all while the store is unchanged (the rendered feed is reused, as
// for readers polling between two polls of the sources); and "render", a
// full response rendered afresh each time, as after every change.
func BenchmarkFeedAtom(b *testing.B) {
	db := benchStore(b, 10000)
	srv := New(Options{Store: db, BaseURL: "https://storyline.example", Now: func() time.Time { return t0 },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	first := httptest.NewRecorder()
	srv.ServeHTTP(first, httptest.NewRequest("GET", "/feed.atom", nil))
	if first.Code != http.StatusOK {
		b.Fatalf("status %d", first.Code)
	}
	if pf, err := feeds.Parse(first.Body.Bytes(), "https://storyline.example/feed.atom", t0); err != nil || len(pf.Entries) != 50 {
		b.Fatalf("parse: %v, %d entries", err, len(pf.Entries))
	}
	etag := first.Header().Get("ETag")

	for _, bc := range []struct {
		name   string
		header map[string]string
		code   int
	}{
		{"full", nil, http.StatusOK},
		{"gzip", map[string]string{"Accept-Encoding": "gzip"}, http.StatusOK},
		{"etag", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"render", nil, http.StatusOK},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if bc.name == "render" {
					srv.cache = newResponseCache(time.Minute, 32<<20)
				}
				req := httptest.NewRequest("GET", "/feed.atom", nil)
				for k, v := range bc.header {
					req.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != bc.code {
					b.Fatalf("status %d, want %d", rec.Code, bc.code)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
