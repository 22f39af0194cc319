package cluster

import "testing"

func TestSameWord(t *testing.T) {
	picked := []cand{{term: "ukrain"}, {term: "marco rubio"}}
	tests := []struct {
		term string
		want bool
	}{
		{"ukrainian", true}, // Ukrainian after Ukraine
		{"rubio", true},     // a part of a picked bigram
		{"geneva", false},
		{"uk", false}, // too short to call a prefix the same word
	}
	for _, tt := range tests {
		if got := sameWord(tt.term, picked); got != tt.want {
			t.Errorf("sameWord(%q) = %v, want %v", tt.term, got, tt.want)
		}
	}
}

func TestLabelForm(t *testing.T) {
	tests := []struct {
		name     string
		forms    []Form
		headline string
		want     string
	}{
		{"cased evidence wins", []Form{{Text: "geneva", Count: 3, Cased: 2, CasedText: "Geneva"}}, "talks resume", "Geneva"},
		{"lower evidence stays lower", []Form{{Text: "talks", Count: 3, Lower: 2}}, "Talks Resume In Geneva", "talks"},
		{"no evidence: headline spelling", []Form{{Text: "aldmoor", Count: 1}}, "Aldmoor Airport adds routes", "Aldmoor"},
		{"no evidence, not in headline", []Form{{Text: "routes", Count: 1}}, "Airport news", "routes"},
	}
	for _, tt := range tests {
		if got := labelForm(tt.forms, tt.forms[0].Text, tt.headline); got != tt.want {
			t.Errorf("%s: labelForm = %q, want %q", tt.name, got, tt.want)
		}
	}
}
