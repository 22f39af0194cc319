package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rendered is a response body ready to serve, with its validators and its
// gzip form made at most once. Its header values are made once too, as
// slices shared by every answer: most requests are repeats of a kept
// response, and building headers was a good part of their cost.
type rendered struct {
	contentType  string
	body         []byte
	hash         string
	lastModified time.Time

	hdrType, hdrETag, hdrETagGzip, hdrLength, hdrLastModified []string

	gzOnce      sync.Once
	gz          []byte
	hdrGzLength []string
}

// newRendered makes a response from its body; cached sets its
// Last-Modified.
func newRendered(contentType string, body []byte) *rendered {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:16])
	return &rendered{contentType: contentType, body: body, hash: hash,
		hdrType:     []string{contentType},
		hdrETag:     []string{`"` + hash + `"`},
		hdrETagGzip: []string{`"` + hash + `-gzip"`},
		hdrLength:   []string{strconv.Itoa(len(body))},
	}
}

// setLastModified sets the Last-Modified time, before rd is shared.
func (rd *rendered) setLastModified(t time.Time) {
	rd.lastModified = t
	rd.hdrLastModified = []string{t.Format(http.TimeFormat)}
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
		rd.hdrGzLength = []string{strconv.Itoa(len(rd.gz))}
	})
	return rd.gz
}

// responseCache keeps rendered feeds and pages until the store's data
// version changes or maxAge passes (relative parameters such as since and
// the topic window move with the clock). Feed readers poll the same few
// URLs over and over: most requests then cost no query (the store keeps
// its data version in memory) and no rendering, whether they end in a 304
// or a 200.
type responseCache struct {
	maxAge   time.Duration
	maxBytes int // bound on the bodies kept, so odd queries cannot eat memory

	mu      sync.Mutex
	entries map[string]cacheEntry
	bytes   int
}

type cacheEntry struct {
	version int64
	at      time.Time
	rd      *rendered
}

func newResponseCache(maxAge time.Duration, maxBytes int) *responseCache {
	return &responseCache{maxAge: maxAge, maxBytes: maxBytes, entries: make(map[string]cacheEntry)}
}

// previous returns the last response kept for key, fresh or not.
func (c *responseCache) previous(key string) *rendered {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		return e.rd
	}
	return nil
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
	size := 2 * len(rd.body) // the body and, at most, its gzip form
	if size > c.maxBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[key]; ok {
		c.bytes -= 2 * len(old.rd.body)
		delete(c.entries, key)
	}
	if c.bytes+size > c.maxBytes {
		// Whatever is stale goes first; if that is not enough, start
		// over: the cache is an optimization and a cold one is only slower.
		for k, e := range c.entries {
			if e.version != version || now.Sub(e.at) > c.maxAge {
				c.bytes -= 2 * len(e.rd.body)
				delete(c.entries, k)
			}
		}
		if c.bytes+size > c.maxBytes {
			clear(c.entries)
			c.bytes = 0
		}
	}
	c.entries[key] = cacheEntry{version: version, at: now, rd: rd}
	c.bytes += size
}

// cached serves a feed or page from the cache when the store has not
// changed since it was rendered, and renders it with render otherwise. key
// names the response (base URL, path and canonical parameters); an empty
// key means "do not keep". A search is kept apart from the feeds and needs
// one of the search slots to render; without one it is answered with 503.
// render returns nil after it has answered with an error itself.
func (s *Server) cached(w http.ResponseWriter, r *http.Request, key string, search bool, render func() *rendered) {
	c := s.cache
	if search {
		c = s.searchCache
	}
	now := s.now()
	dv, verr := s.store.DataVersion(r.Context())
	if verr == nil && key != "" {
		if rd := c.get(key, dv.Version, now); rd != nil {
			serveRendered(w, r, rd)
			return
		}
	}
	if search {
		if !s.searches.acquire(r.Context()) {
			busy(w)
			return
		}
		defer s.searches.release()
		// A popular query arrives many times at once: the copies queue
		// here, and the first to finish has rendered it for the rest.
		if verr == nil && key != "" {
			if rd := c.get(key, dv.Version, s.now()); rd != nil {
				serveRendered(w, r, rd)
				return
			}
		}
	}
	rd := render()
	if rd == nil {
		return
	}
	// Last-Modified is when the bytes last changed, not the newest item's
	// date: a late story, an edit or a removal changes a feed without a
	// newer item, and feeds with a time window (the digest, since=) change
	// as the clock moves, with no new data. Unless the bytes are the same
	// as last time, they are new now. Without a previous rendering to
	// compare with (a restart, or a response that is not kept), now is the
	// safe answer: at worst one needless 200, never a wrong 304. When the
	// data version could not be read, it is unknown (none is sent).
	switch prev := c.previous(key); {
	case prev != nil && prev.hash == rd.hash:
		rd.setLastModified(prev.lastModified)
	case verr == nil:
		rd.setLastModified(now.UTC().Truncate(time.Second))
	}
	if verr == nil && key != "" {
		c.put(key, dv.Version, now, rd)
	}
	serveRendered(w, r, rd)
}
