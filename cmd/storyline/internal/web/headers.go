package web

import "net/http"

// csp is the Content-Security-Policy of every response. The pages run no
// script and load nothing but their stylesheet, from this server, so no
// injected <style> or style attribute applies either; feeds need nothing.
// So the default is 'none', base-uri is 'none' too, and forms (the search
// box) may only go here. Images may come from any http or https origin:
// the pages show the outlets' feed images, which live on every outlet's
// own host, and an image cannot run code. frame-ancestors keeps the pages
// out of other sites' frames (clickjacking), as X-Frame-Options does for
// browsers that predate it.
const csp = "default-src 'none'; img-src https: http:; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

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
