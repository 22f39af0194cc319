package poller

import (
	"context"
	"fmt"
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

// syntheticFeeds returns nFeeds RSS documents of perFeed items each. Items
// report one of many made-up events, so the clustering does real work: each
// event has its own names and words, outlets word it differently.
func syntheticFeeds(nFeeds, perFeed int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	common := strings.Fields("government report officials said on monday the city new plan week police year " +
		"minister people market company council court vote result storm match launch health school price")
	word := func() string {
		const letters = "abcdefghijklmnoprstuvwyz"
		n := 4 + rng.IntN(6)
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		return string(b)
	}
	type event struct{ names, words []string }
	events := make([]event, nFeeds*perFeed/8+1)
	for i := range events {
		ev := &events[i]
		for range 3 {
			w := word()
			ev.names = append(ev.names, strings.ToUpper(w[:1])+w[1:])
		}
		for range 8 {
			ev.words = append(ev.words, word())
		}
	}
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	out := make([][]byte, nFeeds)
	for f := range out {
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Outlet %d</title>`+
			`<link>https://outlet%d.example/</link><description>Synthetic</description>`, f, f)
		for i := range perFeed {
			ev := events[rng.IntN(len(events))]
			pick := func(ws []string, n int) string {
				var s []string
				for range n {
					s = append(s, ws[rng.IntN(len(ws))])
				}
				return strings.Join(s, " ")
			}
			title := ev.names[rng.IntN(3)] + " " + pick(ev.words, 3) + " " + pick(common, 2) + " " + ev.names[rng.IntN(3)]
			body := "<p>" + pick(ev.words, 10) + " " + pick(common, 15) + " " + ev.names[0] + " " + ev.names[1] +
				".</p><p>" + pick(common, 12) + " " + pick(ev.words, 6) + ".</p>"
			pub := base.Add(time.Duration(f*perFeed+i) * 7 * time.Second)
			fmt.Fprintf(&b, `<item><title>%s</title><link>https://outlet%d.example/story/%d?utm_source=rss</link>`+
				`<guid>outlet%d-%d</guid><pubDate>%s</pubDate><description><![CDATA[%s]]></description></item>`,
				title, f, i, f, i, pub.Format(time.RFC1123Z), body)
		}
		b.WriteString("</channel></rss>")
		out[f] = []byte(b.String())
	}
	return out
}

// BenchmarkIngest measures the whole ingest path, as `storyline poll` runs
// it: fetch from a local web server, parse, normalize, cluster and save, for
// many feeds at once. items/s is the figure to compare with other
// aggregators on the same work.
func BenchmarkIngest(b *testing.B) {
	for _, nFeeds := range []int{100, 1000} {
		b.Run(fmt.Sprintf("feeds=%d/items=50", nFeeds), func(b *testing.B) {
			docs := syntheticFeeds(nFeeds, 50)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var i int
				fmt.Sscanf(r.URL.Path, "/feed/%d", &i)
				w.Header().Set("Content-Type", "application/rss+xml")
				w.Write(docs[i])
			}))
			defer srv.Close()
			ctx := context.Background()
			b.ResetTimer()
			items := 0
			for range b.N {
				b.StopTimer()
				db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
				if err != nil {
					b.Fatal(err)
				}
				var fs []store.Feed
				for i := range nFeeds {
					f, err := db.AddFeed(ctx, store.NewFeed{URL: fmt.Sprintf("%s/feed/%d", srv.URL, i)})
					if err != nil {
						b.Fatal(err)
					}
					fs = append(fs, f)
				}
				p := &Poller{Ingest: ingest.New(db, cluster.DefaultConfig()), Fetcher: &feeds.Fetcher{UserAgent: "bench"}}
				b.StartTimer()
				out, err := p.Poll(ctx, fs)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range out {
					if o.Err != nil {
						b.Fatal(o.Err)
					}
					items += o.Stats.New
				}
				es, _ := db.Entries(ctx, store.EntryQuery{})
				if len(es) != nFeeds*50 {
					b.Fatalf("stored %d entries, want %d", len(es), nFeeds*50)
				}
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
