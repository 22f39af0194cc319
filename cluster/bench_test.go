package cluster

import (
	"fmt"
	"math/rand/v2"
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
	tr := newTracker(c)
	for i := 0; i < preload; i++ {
		d := benchDoc(r, i)
		tr.follow(d, c.Add(d))
	}
	docs := make([]Document, b.N)
	for i := range docs {
		docs[i] = benchDoc(r, preload+i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.follow(docs[i], c.Add(docs[i]))
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
