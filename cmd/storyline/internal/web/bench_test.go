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
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

// outletStore is an empty store, its clock at t0, with n outlets
// subscribed, and the pipeline that writes to it.
func outletStore(b *testing.B, n int) (*sqlite.DB, *ingest.Pipeline, []int64) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return t0 }
	pipe := ingest.New(db, cluster.DefaultConfig())
	var ids []int64
	for i := range n {
		f, err := db.AddFeed(ctx, store.NewFeed{URL: fmt.Sprintf("https://outlet%d.example/feed", i)})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	return db, pipe, ids
}

// benchStore fills a store with n entries from 20 outlets: 400 made-up
// events reported in varied words, some articles syndicated by two outlets,
// saved in time order as the poller would, so that they cluster.
func benchStore(b *testing.B, n int) *sqlite.DB {
	b.Helper()
	ctx := context.Background()
	const outlets = 20
	db, pipe, ids := outletStore(b, outlets)
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

// storylineStore fills a store with events storylines of five stories
// each from 20 outlets over the last three days: every event has names of
// its own (made-up words), as real events have, so that each is a
// storyline; benchStore's events share so many words that they gather.
func storylineStore(b *testing.B, events int) *sqlite.DB {
	b.Helper()
	ctx := context.Background()
	syl := []string{"ka", "lo", "mi", "ren", "sa", "tor", "vel", "zu", "bri", "dan", "ost", "quin", "har", "pel", "wyn", "gor"}
	word := func(n int) string {
		return strings.ToUpper(syl[n%16][:1]) + syl[n%16][1:] + syl[(n/16)%16] + syl[(n/256)%16]
	}
	kinds := []string{"summit", "strike", "flood", "election", "trial", "merger", "festival", "wildfire", "treaty", "protest"}
	const outlets = 20
	db, pipe, ids := outletStore(b, outlets)
	span := 72 * time.Hour
	var polls []store.PollResult
	for o := range outlets {
		polls = append(polls, store.PollResult{FeedID: ids[o], PolledAt: t0, Status: 200, Title: fmt.Sprintf("Outlet %d", o)})
	}
	for e := range events {
		who, where := word(e*7+3), word(e*13+5)
		kind := kinds[e%len(kinds)]
		at := t0.Add(-span + time.Duration(e)*span/time.Duration(events))
		for k := range 5 {
			o := (e + k*3) % outlets
			title := fmt.Sprintf("%s %s in %s: day %d", who, kind, where, k+1)
			polls[o].Entries = append(polls[o].Entries, feeds.Entry{
				ID: fmt.Sprintf("e%d-%d", e, k), Link: fmt.Sprintf("https://outlet%d.example/%d/%d", o, e, k),
				Title: title, Text: fmt.Sprintf("%s and %s: the %s goes on, reports say.", who, where, kind),
				Summary: "<p>" + title + "</p>", Published: at.Add(time.Duration(k) * 10 * time.Minute),
				Image: fmt.Sprintf("https://img.outlet%d.example/%d.jpg", o, e),
			})
		}
	}
	if _, err := pipe.SavePolls(ctx, polls); err != nil {
		b.Fatal(err)
	}
	if _, err := pipe.ClusterPending(ctx); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkPages renders the front page, a storyline's page and a search
// afresh (the cache emptied each time, as after every change of the data)
// from a store of about 1,000 storylines; "cached" is the front page
// served again while nothing changed.
func BenchmarkPages(b *testing.B) {
	db := storylineStore(b, 1000)
	if n, err := db.CountTopics(context.Background(), time.Time{}, 2); err != nil || n < 900 {
		b.Fatalf("%d storylines (%v), want about 1,000", n, err)
	}
	srv := New(Options{Store: db, BaseURL: "https://storyline.example", Now: func() time.Time { return t0 },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts, err := db.Topics(context.Background(), store.TopicQuery{Limit: 1})
	if err != nil || len(ts) == 0 {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, path string }{
		{"front", "/"},
		{"cached", "/"},
		{"topic", fmt.Sprintf("/topics/%d", ts[0].ID)},
		{"search", "/search?q=summit"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if bc.name != "cached" {
					srv.cache = newResponseCache(time.Minute, 32<<20)
					srv.searchCache = newResponseCache(time.Minute, searchCacheBytes)
				}
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, httptest.NewRequest("GET", bc.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/render")
		})
	}
}
