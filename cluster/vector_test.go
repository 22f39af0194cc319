package cluster

import (
	"math"
	"slices"
	"testing"
)

// TestStoryWeights pins the relative weights of a story's words: a name
// counts NameWeight times a common word in a story with body text, but only
// HeadlineNameWeight times in a headline-only story, where its name bigram
// falls by the square of that ratio; a slug word counts as a body word.
func TestStoryWeights(t *testing.T) {
	cfg := DefaultConfig()
	weight := func(title, text, link, term string) float64 {
		t.Helper()
		sc := &analysisCache{}
		v := vectorize(analyzeCached(title, text, link, "en", sc), &cfg, sc)
		i, ok := slices.BinarySearch(v.terms, term)
		if !ok {
			t.Fatalf("%q: no term %q in %v", title, term, v.terms)
		}
		return v.u[i]
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	const title = "Talks with Marco Rubio resume"
	body := "Officials said little."
	for _, tc := range []struct {
		text     string
		name, bi float64 // weight of "rubio" and of "marco rubio" relative to "talk"
	}{
		{"", cfg.HeadlineNameWeight, cfg.HeadlineNameWeight * cfg.BigramWeight * cfg.HeadlineNameWeight / cfg.NameWeight},
		{body, cfg.NameWeight, cfg.NameWeight * cfg.BigramWeight},
	} {
		talk := weight(title, tc.text, "", "talk")
		if got := weight(title, tc.text, "", "rubio") / talk; !near(got, tc.name) {
			t.Errorf("body %q: name weighs %.3f common words, want %.3f", tc.text, got, tc.name)
		}
		if got := weight(title, tc.text, "", "marco rubio") / talk; !near(got, tc.bi) {
			t.Errorf("body %q: bigram weighs %.3f common words, want %.3f", tc.text, got, tc.bi)
		}
	}
	// One slug occurrence against one body occurrence.
	link := "https://a.example/world/2026/11/24/envoys-arrive-for-new-round"
	slug, common := weight(title, body, link, "envoy"), weight(title, body, link, "offici")
	if !near(slug/common, 1) {
		t.Errorf("slug word weighs %.3f body words, want 1", slug/common)
	}
}
