package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// gcPercent is the garbage collector's target once the live heap is
// large: heap growth between collections as a percentage of the live
// heap. Most of storyline's live heap is then the clusterer's index,
// large and long-lived, so Go's default of 100 doubles the peak for
// little gain: on the cold import of bench/ingest.sh (1,000 feeds x 50
// items) 50 lowered the peak RSS from about 150 to 130 MiB for a few
// percent more CPU (25 saved 10 MiB more for a fifth more CPU).
const gcPercent = 50

// gcHeadroom is the least growth of the heap between two collections.
// While the live heap is small, gcPercent alone collects after every few
// megabytes of garbage: serving feeds (a few megabytes live) collected so
// often that bench/serve.sh answered 14 % fewer requests per second than
// with this floor (32,700 against 38,200 gzipped /feed.atom), and a cold
// import of 1,000 feeds ran 500 collections where 240 do, most of them
// while saving, before the clustering's index grows. 16 MiB served as
// fast, but raised that import's peak RSS by 4.5 MiB: while the index
// grows, each collection came later.
const gcHeadroom = 8 << 20

// paceGC sets the collector's target after every collection so that the
// next one comes after gcPercent of the live heap has been allocated, or
// gcHeadroom when that is more. It lasts for the life of the process.
func paceGC() {
	p := &gcPacer{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	p.tune()
	p.arm()
}

// gcPacer is paceGC's state: the metric it reads and the GOGC it set.
type gcPacer struct {
	sample []metrics.Sample
	last   int
}

// gcSentinel is garbage from its birth: its cleanup runs after the next
// collection, and arms the one after.
type gcSentinel struct{ _ *int }

func (p *gcPacer) arm() {
	runtime.AddCleanup(&gcSentinel{}, func(p *gcPacer) {
		p.tune()
		p.arm()
	}, p)
}

func (p *gcPacer) tune() {
	metrics.Read(p.sample)
	var live uint64
	if p.sample[0].Value.Kind() == metrics.KindUint64 {
		live = p.sample[0].Value.Uint64()
	}
	if pct := gcPercentFor(live); pct != p.last {
		debug.SetGCPercent(pct)
		p.last = pct
	}
}

// gcPercentFor is the GOGC that puts the next collection after the larger
// of gcPercent of live bytes and gcHeadroom.
func gcPercentFor(live uint64) int {
	live = max(live, 1<<20)
	return max(gcPercent, int(gcHeadroom*100/live))
}
