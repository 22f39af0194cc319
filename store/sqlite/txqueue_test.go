package sqlite

import (
	"errors"
	"slices"
	"testing"
)

// TestTxQueueOrderAndFailure: queued writes run in order; after the first
// failure the rest are skipped, and do, sync and close report it.
func TestTxQueueOrderAndFailure(t *testing.T) {
	q := newTxQueue()
	var ran []int
	for i := range 1000 {
		if err := q.do(func() error { ran = append(ran, i); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.sync(); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 1000 || !slices.IsSorted(ran) {
		t.Fatalf("ran %d writes, in order: %v", len(ran), slices.IsSorted(ran))
	}
	boom := errors.New("disk full")
	q.do(func() error { return boom })
	q.do(func() error { ran = append(ran, -1); return nil })
	if err := q.sync(); !errors.Is(err, boom) {
		t.Errorf("sync after a failed write = %v, want %v", err, boom)
	}
	if err := q.do(func() error { ran = append(ran, -2); return nil }); !errors.Is(err, boom) {
		t.Errorf("do after a failed write = %v, want %v", err, boom)
	}
	if err := q.close(); !errors.Is(err, boom) {
		t.Errorf("close = %v, want %v", err, boom)
	}
	if err := q.close(); !errors.Is(err, boom) {
		t.Errorf("second close = %v, want %v", err, boom)
	}
	if len(ran) != 1000 {
		t.Errorf("%d writes ran after the failure", len(ran)-1000)
	}
	ok := newTxQueue()
	ok.close()
	if err := ok.do(func() error { return nil }); !errors.Is(err, errQueueClosed) {
		t.Errorf("do after close = %v, want %v", err, errQueueClosed)
	}
	if err := ok.sync(); !errors.Is(err, errQueueClosed) {
		t.Errorf("sync after close = %v, want %v", err, errQueueClosed)
	}
	var nq *txQueue
	if err := nq.do(func() error { return boom }); !errors.Is(err, boom) {
		t.Errorf("a nil queue's do = %v, want the write's own error", err)
	}
}
