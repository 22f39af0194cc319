package web

import (
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// gzipMin is the body size below which gzip saves less than it costs.
const gzipMin = 512

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return w
}}

// serveRendered answers with a rendered body, honouring conditional
// requests. The ETag is a hash of the body, so it is strong and changes
// exactly when the bytes do; the gzip representation gets its own ETag
// ("…-gzip"), as a strong ETag must name one sequence of bytes.
func serveRendered(w http.ResponseWriter, r *http.Request, rd *rendered) {
	gz := len(rd.body) >= gzipMin && acceptsGzip(r.Header.Get("Accept-Encoding"))
	etag := `"` + rd.hash + `"`
	if gz {
		etag = `"` + rd.hash + `-gzip"`
	}
	h := w.Header()
	h.Set("Content-Type", rd.contentType)
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Vary", "Accept-Encoding")
	h.Set("ETag", etag)
	if !rd.lastModified.IsZero() {
		h.Set("Last-Modified", rd.lastModified.Format(http.TimeFormat))
	}
	if notModified(r, rd.hash, rd.lastModified) {
		// A 304 carries the validators but no body and no Content-Type.
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := rd.body
	if gz {
		body = rd.gzipped()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// notModified applies RFC 9110's precedence: If-None-Match when present
// (compared weakly, as GET requires, and ignoring our "-gzip" suffix since
// both encodings carry the same content), else If-Modified-Since.
func notModified(r *http.Request, hash string, lastModified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return true
			}
			tag = strings.TrimPrefix(tag, "W/")
			tag = strings.Trim(tag, `"`)
			tag = strings.TrimSuffix(tag, "-gzip")
			if tag == hash {
				return true
			}
		}
		return false
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || lastModified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	return err == nil && !lastModified.After(t)
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: listed
// (or "*") with a q-value other than 0.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		ok := true
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q == 0 {
					ok = false
				}
			}
		}
		if name == "*" {
			star = ok
			continue
		}
		return ok
	}
	return star
}
