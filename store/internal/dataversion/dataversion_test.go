package dataversion

import (
	"context"
	"testing"
	"time"

	"github.com/storyline/storyline/store"
)

// TestCache: a version is answered from memory within TTL, read again
// after, and a commit published after a newer version was read does not
// replace it.
func TestCache(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	stored, reads := int64(5), 0
	read := func(context.Context) (store.DataVersion, error) {
		reads++
		return store.DataVersion{Version: stored}, nil
	}
	var c Cache
	get := func(at time.Time) int64 {
		t.Helper()
		v, err := c.Get(ctx, at, read)
		if err != nil {
			t.Fatal(err)
		}
		return v.Version
	}
	if v := get(t0); v != 5 || reads != 1 {
		t.Fatalf("first get: %d after %d reads", v, reads)
	}
	stored = 7 // another process commits
	if v := get(t0.Add(TTL / 2)); v != 5 || reads != 1 {
		t.Errorf("within TTL: %d after %d reads, want 5 from memory", v, reads)
	}
	if v := get(t0.Add(TTL)); v != 7 || reads != 2 {
		t.Errorf("after TTL: %d after %d reads, want 7 read", v, reads)
	}
	c.Publish(store.DataVersion{Version: 6}, t0.Add(TTL)) // ours, committed before 7
	if v := get(t0.Add(TTL)); v != 7 {
		t.Errorf("after publishing an older version: %d, want 7 kept", v)
	}
	c.Publish(store.DataVersion{Version: 8}, t0.Add(TTL))
	if v := get(t0.Add(TTL)); v != 8 || reads != 2 {
		t.Errorf("after publishing 8: %d after %d reads", v, reads)
	}
}
