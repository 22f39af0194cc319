package searchtext

import (
	"slices"
	"testing"
)

func TestIndex(t *testing.T) {
	for in, want := range map[string]string{
		"Storm closes harbour": "Storm closes harbour",
		"":                     "",
		"国际会议在北京举行。":           " 国际 际会 会议 议在 在北 北京 京举 举行 国 际 会 议 在 北 京 举 行 。",
		"Apple发布新款iPhone":      "Apple 发布 布新 新款 发 布 新 款 iPhone",
		"台风":                   " 台风 台 风 ",
		"猫":                    " 猫 ",
		"東京で地震、震度5弱":           " 東京 京で で地 地震 東 京 で 地 震 、 震度 震 度 5 弱 ",
		"Café 한국어 text":        "Café 한국어 text",
		"𠀋𠀌":                   " 𠀋𠀌 𠀋 𠀌 ",
		"ﾃｽﾄ":                  " テス スト テ ス ト ",
		"ＦＴＡ交渉":                "FTA 交渉 交 渉 ",
		"震度６強":                 " 震度 震 度 6 強 ",
		"ｶﾞｲﾄﾞ":                " ガイ イド ガ イ ド ",
		"ﬁnal ①":               "final 1",
	} {
		if got := Index(in); got != want {
			t.Errorf("Index(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuery(t *testing.T) {
	for in, want := range map[string][]string{
		"harbour":    {"harbour"},
		"北京":         {"北京"},
		"京":          {"京"},
		"国际会议":       {"国际 际会 会议"},
		"iPhone新款":   {"iPhone", "新款"},
		"新款iPhone发布": {"新款", "iPhone", "发布"},
		"北京。":        {"北京"},
		"「北京」":       {"北京"},
		"U.S.大統領":    {"U.S.", "大統 統領"},
		"C++言語":      {"C++", "言語"},
	} {
		if got := Query(in); !slices.Equal(got, want) {
			t.Errorf("Query(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestQueryFindsEveryWord checks the promise of the package: the phrases
// of a query for any part of a run (one character or more) occur, in
// order and side by side, among the indexed tokens of the run.
func TestQueryFindsEveryWord(t *testing.T) {
	run := []rune("中华人民共和国国务院总理")
	indexed := splitSpaces(Index(string(run)))
	for i := range run {
		for j := i + 1; j <= len(run); j++ {
			for _, phrase := range Query(string(run[i:j])) {
				if !containsSeq(indexed, splitSpaces(phrase)) {
					t.Errorf("%q: phrase %q is not in the index %q", string(run[i:j]), phrase, indexed)
				}
			}
		}
	}
}

func splitSpaces(s string) []string {
	var out []string
	start := -1
	for i, r := range s + " " {
		if r == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
			}
			start = -1
		} else if start < 0 {
			start = i
		}
	}
	return out
}

func containsSeq(tokens, seq []string) bool {
	for i := 0; i+len(seq) <= len(tokens); i++ {
		if slices.Equal(tokens[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}
