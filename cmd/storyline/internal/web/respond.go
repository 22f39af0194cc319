package web

import (
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// gzipMin is the body size below which gzip saves less than it costs.
const gzipMin = 512

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return w
}}

// Header values that never change, shared by every response (net/http
// only reads them; Header.Add would copy, as their capacity is full).
var (
	hdrCacheControl = []string{"public, max-age=60"}
	hdrVary         = []string{"Accept-Encoding"}
	hdrGzip         = []string{"gzip"}
)

// serveRendered answers with a rendered body, honouring conditional
// requests. The ETag is a hash of the body, so it is strong and changes
// exactly when the bytes do; the gzip representation gets its own ETag
// ("…-gzip"), as a strong ETag must name one sequence of bytes. Headers
// are assigned by their canonical keys, the values made in advance.
func serveRendered(w http.ResponseWriter, r *http.Request, rd *rendered) {
	gz := len(rd.body) >= gzipMin && acceptsGzip(r.Header.Get("Accept-Encoding"))
	h := w.Header()
	h["Cache-Control"] = hdrCacheControl
	h["Vary"] = hdrVary
	if gz {
		h["Etag"] = rd.hdrETagGzip
	} else {
		h["Etag"] = rd.hdrETag
	}
	if rd.hdrLastModified != nil {
		h["Last-Modified"] = rd.hdrLastModified
	}
	if notModified(r, rd) {
		// A 304 carries the validators but no body and no Content-Type.
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = rd.hdrType
	body := rd.body
	h["Content-Length"] = rd.hdrLength
	if gz {
		body = rd.gzipped()
		h["Content-Encoding"] = hdrGzip
		h["Content-Length"] = rd.hdrGzLength
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// notModified applies RFC 9110's precedence: If-None-Match when present
// (compared weakly, as GET requires, and ignoring our "-gzip" suffix since
// both encodings carry the same content), else If-Modified-Since. The
// usual request echoes our own validator; that costs one comparison.
func notModified(r *http.Request, rd *rendered) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if inm == rd.hdrETagGzip[0] || inm == rd.hdrETag[0] {
			return true
		}
		for inm != "" {
			var tag string
			tag, inm, _ = strings.Cut(inm, ",")
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return true
			}
			tag = strings.TrimPrefix(tag, "W/")
			tag = strings.Trim(tag, `"`)
			tag = strings.TrimSuffix(tag, "-gzip")
			if tag == rd.hash {
				return true
			}
		}
		return false
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || rd.lastModified.IsZero() {
		return false
	}
	if ims == rd.hdrLastModified[0] {
		return true
	}
	t, err := http.ParseTime(ims)
	return err == nil && !rd.lastModified.After(t)
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: listed
// (or "*") with a q-value other than 0.
func acceptsGzip(header string) bool {
	star := false
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ",")
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		isStar := name == "*"
		if !isStar && !strings.EqualFold(name, "gzip") && !strings.EqualFold(name, "x-gzip") {
			continue
		}
		ok := true
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q == 0 {
					ok = false
				}
			}
		}
		if isStar {
			star = ok
			continue
		}
		return ok
	}
	return star
}
