package main

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 800},                    // as for 1 MiB: 8 MiB of headroom
		{4 << 20, 200},              // 8 MiB on 4
		{16 << 20, gcPercent},       // half of 16 MiB is the floor itself
		{200 << 20, gcPercent},      // a large index: half of it
		{10 << 20, 80},              // 8 MiB on 10
		{(16 << 20) - 1, gcPercent}, // rounding down to the floor
	} {
		if got := gcPercentFor(tc.live); got != tc.want {
			t.Errorf("gcPercentFor(%d) = %d, want %d", tc.live, got, tc.want)
		}
	}
}

// TestPaceGC: after each collection the target follows the live heap
// (gcPercentFor), whatever the rest of the package's tests hold, and
// falls to gcPercent once 64 MiB more are live.
func TestPaceGC(t *testing.T) {
	paceGC()
	read := func() (gogc int, live uint64) {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		return int(s[0].Value.Uint64()), s[1].Value.Uint64()
	}
	settled := func(what string, ok func(gogc int) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			runtime.GC()
			time.Sleep(10 * time.Millisecond) // the cleanup runs after the collection
			p, live := read()
			if p == gcPercentFor(live) && ok(p) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: GOGC %d with %d bytes live, want %d", what, p, live, gcPercentFor(live))
			}
		}
	}
	settled("as the tests left the heap", func(int) bool { return true })
	big := make([]*[1 << 20]byte, 64)
	for i := range big {
		big[i] = new([1 << 20]byte)
	}
	settled("with 64 MiB more live", func(p int) bool { return p == gcPercent })
	runtime.KeepAlive(big)
}
