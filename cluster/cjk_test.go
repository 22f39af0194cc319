package cluster

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTokenizeChineseAndJapanese: a run of Chinese characters or kana is
// cut into overlapping pairs, each at its place in the text; words in
// other scripts around it stay whole.
func TestTokenizeChineseAndJapanese(t *testing.T) {
	tests := []struct{ text, want string }{
		{"経済対策", "経済 済対 対策"},
		{"AI技術で「コーヒー」", "ai 技術 術で コー ーヒ ヒー"}, // "術で" is a token, and a stopword
		{"北京 GDP 5%", "北京 gdp 5"},
		{"経", "経"},
		{"서울 시장", "서울 시장"}, // Korean is written with spaces
		// A mark belongs to the character before it: a variation
		// selector, a decomposed voicing mark.
		{"葛\U000E0100飾区", "葛\U000E0100飾 飾区"},
		{"カ\u3099ス料金", "カ\u3099ス ス料 料金"},
		{"ｺｰﾋｰ価格", "ｺｰ ｰﾋ ﾋｰ ｰ価 価格"}, // half-width katakana and its long-vowel mark
		{"㌔㍉ ⼈⼝ 〇", ""},              // squared katakana and radicals are symbols
		{"l'経済", "l 経済"},             // an elision before a run is not kept
	}
	for _, tt := range tests {
		toks := tokenize(tt.text)
		var got []string
		for _, tk := range toks {
			got = append(got, tk.lower)
			if tk.start < 0 || tk.end > len(tt.text) || tt.text[tk.start:tk.end] != tk.text {
				t.Errorf("%q: token %q at [%d,%d] is %q there", tt.text, tk.text, tk.start, tk.end, tt.text[max(0, tk.start):min(len(tt.text), tk.end)])
			}
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("tokenize(%q) = %q, want %q", tt.text, strings.Join(got, " "), tt.want)
		}
	}
}

// TestChineseAndJapaneseGather: outlets writing Japanese or Chinese, whose
// words no space separates, gather into storylines as outlets writing
// English do, named by the phrase their headlines share, and a storyline
// of one story by a phrase of its headline.
func TestChineseAndJapaneseGather(t *testing.T) {
	f := newFeed(DefaultConfig())
	stories := []struct{ id, head, story string }{
		{"j1", "政府が新しい経済対策を発表", "economy"},
		{"j2", "東京で大雪、交通機関に乱れ", "snow"},
		{"j3", "首相、経済対策を記者会見で説明", "economy"},
		{"c1", "北京举行国际会议", "summit"},
		{"j4", "新たな経済対策、総額20兆円規模に", "economy"},
		{"j5", "東京都心で大雪警報", "snow"},
		{"c2", "国际会议在北京开幕", "summit"},
		{"j6", "大雪の影響で東京の電車が運休", "snow"},
		{"c3", "各国领导人出席北京国际会议", "summit"},
		{"j7", "人気歌手が新曲を発表", "single"},
	}
	for _, s := range stories {
		body := ""
		if s.id == "j7" { // a summary, as feeds give: the name is still of the headline
			body = "歌手は来月から全国ツアーを行うと記者会見で明らかにした"
		}
		f.add(s.id, s.head, body)
	}
	topicOf := map[string]int64{}
	for _, s := range stories {
		id := f.topic[s.id]
		if prev, ok := topicOf[s.story]; ok && prev != id && s.story != "snow" {
			t.Errorf("%s (%q) is in topic %d, apart from its storyline's %d", s.id, s.head, id, prev)
		}
		topicOf[s.story] = id
	}
	if topicOf["economy"] == topicOf["summit"] || topicOf["economy"] == topicOf["snow"] {
		t.Errorf("storylines joined: %v", topicOf)
	}
	for story, want := range map[string]string{"economy": "経済対策", "summit": "国际会议"} {
		ts, _ := f.c.Topic(topicOf[story])
		if !strings.Contains(ts.Label, want) || !strings.Contains(ts.Headline, ts.Label) {
			t.Errorf("%s: named %q (headline %q), want a phrase of the headline holding %q", story, ts.Label, ts.Headline, want)
		}
	}
	ts, _ := f.c.Topic(f.topic["j7"])
	if ts.Size != 1 || !strings.Contains(ts.Headline, ts.Label) || utf8.RuneCountInString(ts.Label) < 3 ||
		utf8.RuneCountInString(ts.Label) >= utf8.RuneCountInString(ts.Headline) {
		t.Errorf("one story %q: named %q, want a phrase of its headline", ts.Headline, ts.Label)
	}
}

// A phrase that starts or ends inside a run of Chinese characters is
// widened to the run, which never cuts a word in two; kana and Latin text
// are edges already, and a clause too long for a name is left alone.
func TestWidenHan(t *testing.T) {
	for _, tc := range []struct{ h, phrase, want string }{
		{"台湾东部海域发生强震，多地有感", "海域发生强", "台湾东部海域发生强震"},
		{"中日韩领导人会议在首尔举行", "会议在首", "中日韩领导人会议在首尔举行"},
		{"東京で大雪警報", "大雪", "大雪警報"},
		{"政府が新しい経済対策を発表", "経済対策", "経済対策"},
		{"苹果发布iPhone16", "iPhone16", "iPhone16"},
		{"Storm closes harbour", "closes", "closes"},
		{"这是一个非常非常非常非常非常非常长的没有标点的句子里的词", "长的没", "长的没"},
		{"北京2026年冬奥会开幕", "冬奥", "冬奥会开幕"},
		{"葛\U000E0100飾区長選挙", "飾区長", "葛\U000E0100飾区長選挙"},
		{"冬奥会开幕2026", "奥会", "冬奥会"},
		{"能登で震度６強の地震", "能登で震度６", "能登で震度６強"},
		{"経済対策、総額20兆円規模に", "経済対策、総額20", "経済対策、総額20兆円規模"},
		{"Aster X9 launch", "Aster X9", "Aster X9"},
	} {
		start := strings.Index(tc.h, tc.phrase)
		s, e := widenHan(tc.h, start, start+len(tc.phrase))
		if got := tc.h[s:e]; got != tc.want {
			t.Errorf("widenHan(%q, %q) = %q, want %q", tc.h, tc.phrase, got, tc.want)
		}
	}
}

// A name whose first word is spelled with a capital inside keeps it.
func TestPhraseKeepsInnerCapitals(t *testing.T) {
	for h, want := range map[string]string{
		"iPhone 16 launch draws crowds": "iPhone 16 launch",
		"eBay sales fall":               "eBay sales",
		"storm closes harbour":          "Storm closes",
	} {
		toks := tokenize(h)
		n := len(strings.Fields(want))
		name := make([]bool, n)
		if got := phraseText(h, toks[:n], name, false); got != want {
			t.Errorf("phraseText(%q) = %q, want %q", h, got, want)
		}
	}
}
