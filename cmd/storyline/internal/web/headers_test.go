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

// TestPageFitsCSP checks that the policy allows the page's own style and
// nothing the page would need beyond it: no script, no style attribute
// (which a hash cannot allow), and the style's hash in the header.
func TestPageFitsCSP(t *testing.T) {
	f := newFixture(t)
	rec := f.get(t, "/")
	body := rec.Body.String()
	policy := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "img-src https: http:"} {
		if !strings.Contains(policy, want) {
			t.Errorf("policy %q lacks %s", policy, want)
		}
	}
	if strings.Contains(policy, "'unsafe-inline'") || strings.Contains(policy, "script-src") {
		t.Errorf("policy %q allows more than it needs", policy)
	}
	_, rest, ok := strings.Cut(body, "<style>")
	style, _, ok2 := strings.Cut(rest, "</style>")
	if !ok || !ok2 || strings.Count(body, "<style") != 1 {
		t.Fatal("the page should have exactly one <style> element")
	}
	if want := "style-src 'sha256-" + styleHash(style) + "'"; !strings.Contains(policy, want) {
		t.Errorf("policy %q does not allow the page's style (%s)", policy, want)
	}
	for _, banned := range []string{"<script", " style=", "<link rel=\"stylesheet\""} {
		if strings.Contains(body, banned) {
			t.Errorf("the page has %s, which the policy blocks", banned)
		}
	}
}
