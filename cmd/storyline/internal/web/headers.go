package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// csp is the Content-Security-Policy of every response. The page runs no
// script and loads nothing but its inline style, allowed by hash so that
// no injected <style> or attribute applies either; feeds need nothing. So
// the default is 'none', and base-uri and form-action, which default-src
// does not cover, are 'none' too. Images may come from any http or https
// origin: the page is to show the outlets' feed images, which live on
// every outlet's own host; an image cannot run code, and the page shows
// none yet. frame-ancestors keeps the page out of other sites' frames
// (clickjacking), as X-Frame-Options does for browsers that predate it.
var csp = "default-src 'none'; img-src https: http:; style-src 'sha256-" + styleHash(pageStyle) +
	"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// styleHash is the CSP source hash of an inline style element's contents.
func styleHash(style string) string {
	sum := sha256.Sum256([]byte(style))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Security headers shared by every response, assigned by canonical key
// (net/http only reads them).
var (
	hdrCSP            = []string{csp}
	hdrFrameOptions   = []string{"DENY"}
	hdrNoSniff        = []string{"nosniff"}
	hdrReferrerPolicy = []string{"no-referrer"}
)

// secureHeaders sets the security headers on every response before the
// handler runs, so that errors, redirects, 304s and /metrics carry them as
// well as pages: a header set in one handler is a header forgotten in the
// next. nosniff keeps a browser from reading a feed or an error as HTML.
// The Referrer-Policy is no-referrer: following a link from the page tells
// an outlet nothing of this server (its name, or a search in its URL),
// and a reader's feed requests carry none anyway.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Security-Policy"] = hdrCSP
		h["X-Frame-Options"] = hdrFrameOptions
		h["X-Content-Type-Options"] = hdrNoSniff
		h["Referrer-Policy"] = hdrReferrerPolicy
		next.ServeHTTP(w, r)
	})
}
