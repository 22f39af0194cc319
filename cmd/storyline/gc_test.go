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

// TestPaceGC: after each collection the target follows the live heap:
// high while it is small, gcPercent once it is large.
func TestPaceGC(t *testing.T) {
	paceGC()
	gogc := func() int {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return int(s[0].Value.Uint64())
	}
	waitFor := func(ok func(int) bool, what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			runtime.GC()
			if p := gogc(); ok(p) {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("GOGC %d, want %s", p, what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(func(p int) bool { return p > 2*gcPercent }, "above gcPercent with a small heap")
	big := make([]*[1 << 20]byte, 64) // 64 MiB live, in pointers so it is scanned as live
	for i := range big {
		big[i] = new([1 << 20]byte)
	}
	waitFor(func(p int) bool { return p == gcPercent }, "gcPercent with 64 MiB live")
	runtime.KeepAlive(big)
}
