package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestSecurityHeaders checks the headers on every kind of response, not
// only pages: errors, redirects, 304s, /metrics and /healthz too.
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	etag := f.get(t, "/feed.atom").Header().Get("ETag")
	ids := topicIDs(t, f)
	tests := []struct {
		name, target string
		header       []string
		code         int
	}{
		{"page", "/", nil, http.StatusOK},
		{"feed", "/feed.atom", nil, http.StatusOK},
		{"search", "/feed.json?q=bridge", nil, http.StatusOK},
		{"not modified", "/feed.atom", []string{"If-None-Match", etag}, http.StatusNotModified},
		{"not found", "/nothing-here", nil, http.StatusNotFound},
		{"unknown topic", "/topics/999999.atom", nil, http.StatusNotFound},
		{"bad request", "/feed.rss?limit=many", nil, http.StatusBadRequest},
		{"topic feed", fmt.Sprintf("/topics/%d.rss", ids[0].ID), nil, http.StatusOK},
		{"health", "/healthz", nil, http.StatusOK},
		{"metrics", "/metrics", nil, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.get(t, tc.target, tc.header...)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d", rec.Code, tc.code)
			}
			h := rec.Header()
			for k, want := range map[string]string{
				"Content-Security-Policy": csp,
				"X-Frame-Options":         "DENY",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestPagesFitCSP: the pages need nothing the policy forbids: no script,
// no inline style, the stylesheet from this server, the search form
// submitting here.
func TestPagesFitCSP(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/topics/1", "/search?q=harbour"} {
		rec := f.get(t, path)
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		policy := rec.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "img-src https: http:", "style-src 'self'", "form-action 'self'"} {
			if !strings.Contains(policy, want) {
				t.Errorf("policy %q lacks %s", policy, want)
			}
		}
		if strings.Contains(policy, "'unsafe-inline'") || strings.Contains(policy, "script-src") {
			t.Errorf("policy %q allows more than it needs", policy)
		}
		for _, banned := range []string{"<script", " style=", "<style", "javascript:"} {
			if strings.Contains(body, banned) {
				t.Errorf("%s has %s, which the policy blocks", path, banned)
			}
		}
		if !strings.Contains(body, `<link rel="stylesheet" href="https://storyline.example/style.css?v=`+styleVersion+`">`) {
			t.Errorf("%s does not link the versioned stylesheet", path)
		}
	}
	rec := f.get(t, "/style.css?v="+styleVersion)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %v", rec.Code, rec.Header())
	}
}
