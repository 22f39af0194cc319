// Package dataversion keeps a backend's data version in memory, so that a
// server may ask it on every request: this process's own commits are
// known at once (Publish), another process's within TTL plus one read of
// the stored version. Both backends share it, so the ordering rules below
// hold for both.
package dataversion

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storyline/storyline/store"
)

// TTL bounds how late Get learns of another process's writes: the stored
// version is read again at most this often.
const TTL = time.Second

// Cache is the in-memory copy of a database's stored data version. The
// zero value is empty: the first Get reads.
type Cache struct {
	cur     atomic.Pointer[snap]
	reading atomic.Bool // a caller is reading the stored version

	// mu orders reads of the stored version with publications, so that a
	// read begun before a commit cannot replace the version published
	// after it.
	mu        sync.Mutex
	published int64 // publications so far, under mu
}

// snap is an immutable known version and when the database said so.
type snap struct {
	v       store.DataVersion
	checked time.Time
}

// Get returns the data version at now: from memory when it was checked
// less than TTL ago, else read by read. While one caller reads, the others
// keep the known version, late by at most that one read.
func (c *Cache) Get(ctx context.Context, now time.Time, read func(context.Context) (store.DataVersion, error)) (store.DataVersion, error) {
	s := c.cur.Load()
	if s != nil {
		if age := now.Sub(s.checked); age >= 0 && age < TTL {
			return s.v, nil
		}
		if !c.reading.CompareAndSwap(false, true) {
			return s.v, nil
		}
		defer c.reading.Store(false)
	}
	c.mu.Lock()
	seen := c.published
	c.mu.Unlock()
	v, err := read(ctx)
	if err != nil {
		return store.DataVersion{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.published != seen {
		// A commit of ours was published while we read: our row may
		// predate it, and the published version is as fresh as a read.
		return c.cur.Load().v, nil
	}
	c.cur.Store(&snap{v: v, checked: now})
	return v, nil
}

// Publish makes v, which this process committed, the current version as
// of now. A newer version already known (another process's, read between
// the commit and now) stays: otherwise one version would stand for two
// states of the data.
func (c *Cache) Publish(v store.DataVersion, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur := c.cur.Load(); cur != nil && cur.v.Version > v.Version {
		return
	}
	c.published++
	c.cur.Store(&snap{v: v, checked: now})
}
