package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// rendered is a response body ready to serve, with its validators and its
// gzip form made at most once.
type rendered struct {
	contentType  string
	body         []byte
	hash         string
	lastModified time.Time

	gzOnce sync.Once
	gz     []byte
}

func newRendered(contentType string, body []byte, lastModified time.Time) *rendered {
	sum := sha256.Sum256(body)
	return &rendered{contentType: contentType, body: body, hash: hex.EncodeToString(sum[:16]),
		lastModified: lastModified.UTC().Truncate(time.Second)}
}

func (rd *rendered) gzipped() []byte {
	rd.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(&buf)
		zw.Write(rd.body)
		zw.Close()
		gzipWriters.Put(zw)
		rd.gz = buf.Bytes()
	})
	return rd.gz
}

// responseCache keeps rendered feeds and pages until the store's data
// version changes or maxAge passes (relative parameters such as since and
// the topic window move with the clock). Feed readers poll the same few
// URLs over and over: most requests then cost one tiny query and no
// rendering, whether they end in a 304 or a 200.
type responseCache struct {
	maxAge  time.Duration
	maxSize int

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	version int64
	at      time.Time
	rd      *rendered
}

func newResponseCache(maxAge time.Duration, maxSize int) *responseCache {
	return &responseCache{maxAge: maxAge, maxSize: maxSize, entries: make(map[string]cacheEntry)}
}

func (c *responseCache) get(key string, version int64, now time.Time) *rendered {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.version != version || now.Sub(e.at) > c.maxAge || now.Before(e.at) {
		return nil
	}
	return e.rd
}

func (c *responseCache) put(key string, version int64, now time.Time, rd *rendered) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.maxSize {
		// Whatever is stale goes first; if nothing is, start over: the
		// cache is an optimization and a cold one is only slower.
		for k, e := range c.entries {
			if e.version != version || now.Sub(e.at) > c.maxAge {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.maxSize {
			clear(c.entries)
		}
	}
	c.entries[key] = cacheEntry{version: version, at: now, rd: rd}
}

// cached serves a feed or page from the cache when the store has not
// changed since it was rendered, and renders it with render otherwise.
// render returns nil after it has answered with an error itself.
func (s *Server) cached(w http.ResponseWriter, r *http.Request, render func() *rendered) {
	// The body depends on the path and query, and on the base URL when that
	// is taken from the request.
	key := s.base(r) + r.URL.RequestURI()
	now := s.now()
	version, verr := s.store.DataVersion(r.Context())
	if verr == nil {
		if rd := s.cache.get(key, version, now); rd != nil {
			serveRendered(w, r, rd)
			return
		}
	}
	rd := render()
	if rd == nil {
		return
	}
	if verr == nil {
		s.cache.put(key, version, now, rd)
	}
	serveRendered(w, r, rd)
}
