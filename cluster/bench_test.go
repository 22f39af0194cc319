package cluster

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchRate is the arrival rate of the synthetic stream: 1,000 stories per
// 72 h window, so that after 1,000 stories the window is full and every
// later story meets the same number of open topics. The benchmark then shows
// whether the cost per story grows with the number of stories and topics
// ever seen (it must not).
const benchRate = 72 * time.Hour / 1000

var benchCommon = strings.Fields(`government officials market report police court
	company plan deal week city country minister president vote prices
	shares bank security talks health school energy`)

// benchDoc returns story i of an endless synthetic stream in which new
// storylines keep starting: story i belongs to one of a few storylines
// around i/20, each with its own names and words.
func benchDoc(r *rand.Rand, i int) Document {
	k := i/20 + r.IntN(6)
	var title, text []string
	for j := 0; j < 2; j++ {
		title = append(title, fmt.Sprintf("Name%dx%d", k, r.IntN(5)))
	}
	for j := 0; j < 4; j++ {
		title = append(title, benchCommon[r.IntN(len(benchCommon))])
	}
	for j := 0; j < 40; j++ {
		if r.IntN(3) == 0 {
			text = append(text, fmt.Sprintf("word%dy%d", k, r.IntN(15)))
		} else {
			text = append(text, benchCommon[r.IntN(len(benchCommon))])
		}
	}
	return Document{
		ID: fmt.Sprint(i), Title: strings.Join(title, " "),
		Text: strings.Join(text, " ") + ".", Time: t0.Add(time.Duration(i) * benchRate),
	}
}

func benchmarkAdd(b *testing.B, preload int) {
	r := rand.New(rand.NewPCG(1, 2))
	c := New(DefaultConfig(), nil)
	// Stories are kept in memory as a caller would keep them, so that split
	// checks run as they do in the daemon.
	tr := newTracker()
	for i := 0; i < preload; i++ {
		d := benchDoc(r, i)
		tr.follow(d, tr.answer(c, c.Add(d)))
	}
	docs := make([]Document, b.N)
	for i := range docs {
		docs[i] = benchDoc(r, preload+i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.follow(docs[i], tr.answer(c, c.Add(docs[i])))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stories/s")
	b.ReportMetric(float64(len(c.topics)), "open-topics")
	b.ReportMetric(float64(c.lastID), "topics-ever")
}

// BenchmarkAdd measures analyze+assign (with split checks) per story with
// 1,000 and 50,000 stories already clustered.
func BenchmarkAdd(b *testing.B) {
	for _, n := range []int{1000, 50000} {
		b.Run(fmt.Sprint("preloaded=", n), func(b *testing.B) { benchmarkAdd(b, n) })
	}
}

// newsText holds the headlines and body sentences of the shared labelled
// news files, the text of the news-like benchmarks.
type newsText struct{ titles, sents []string }

// loadNewsText reads the shared benchmark files (../shared/bench, outside
// the repository: a clone without them skips the news-like benchmarks).
func loadNewsText(b *testing.B) newsText {
	var nt newsText
	for _, name := range []string{"uci-dev.jsonl", "ecbplus-dev.jsonl"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "shared", "bench", name))
		if err != nil {
			b.Skipf("news-like text not found (%v): these benchmarks need ../shared/bench", err)
		}
		for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
			var d struct{ Title, Text string }
			if err := json.Unmarshal([]byte(line), &d); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			nt.titles = append(nt.titles, d.Title)
			for s := range strings.SplitSeq(d.Text, "\n") {
				if len(s) > 40 && len(s) < 400 {
					nt.sents = append(nt.sents, s)
				}
			}
		}
	}
	return nt
}

// doc returns a story as the feed generator of ../shared/perf writes one: a
// headline that recurs across outlets, with a body of one to four
// sentences drawn from the whole corpus, so large storylines form as when
// many outlets report one event.
func (nt newsText) doc(r *rand.Rand, i int, at time.Time) Document {
	body := make([]string, 1+r.IntN(4))
	for j := range body {
		body[j] = nt.sents[r.IntN(len(nt.sents))]
	}
	return Document{ID: fmt.Sprint(i), Title: nt.titles[r.IntN(len(nt.titles))], Text: strings.Join(body, " "), Time: at}
}

// BenchmarkAddNews measures clustering one news-like story with 5,000 and
// 100,000 stories already in one 72 h window (all topics open): the cost
// per story must not grow with the size of the open set as much as the
// open set grows.
func BenchmarkAddNews(b *testing.B) {
	nt := loadNewsText(b)
	for _, n := range []int{5000, 100000} {
		b.Run(fmt.Sprint("open=", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			c := New(DefaultConfig(), nil)
			tr := newTracker()
			// The preloaded stories span 60 h, so the 72 h window holds
			// them and the measured ones after them (b.N up to n/5).
			step := 60 * time.Hour / time.Duration(n)
			for i := range n {
				d := nt.doc(r, i, t0.Add(time.Duration(i)*step))
				tr.follow(d, tr.answer(c, c.Add(d)))
			}
			docs := make([]Document, b.N)
			for i := range docs {
				docs[i] = nt.doc(r, n+i, t0.Add(time.Duration(n+i)*step))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range docs {
				tr.follow(docs[i], tr.answer(c, c.Add(docs[i])))
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stories/s")
			b.ReportMetric(float64(len(c.topics)), "open-topics")
		})
	}
}
