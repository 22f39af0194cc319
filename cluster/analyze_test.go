package cluster

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// analyze turns a document's title and text into term occurrences, with a
// cache of its own.
func analyze(title, text, lang string) []occurrence {
	return analyzeCached(title, text, "", lang, &analysisCache{})
}

func terms(occ []occurrence) []string {
	var out []string
	for _, o := range occ {
		out = append(out, o.term)
	}
	return out
}

func TestStemmingPerLanguage(t *testing.T) {
	tests := []struct {
		lang, text string
		want       []string
	}{
		{"en", "running talks", []string{"run", "talk"}},
		{"", "Elections", []string{"elect"}},
		{"en-GB", "negotiations", []string{"negoti"}},
		{"fr", "les négociations continuent", []string{"négoci", "continuent"}},
		{"es", "las elecciones presidenciales", []string{"eleccion", "presidencial"}},
		{"ru", "переговоры продолжаются", []string{"переговор", "продолжа"}},
		{"sv", "förhandlingarna", []string{"förhandling"}},
		{"nb", "forhandlingene", []string{"forhandling"}},
		{"hu", "tárgyalások", []string{"tárgyalás"}},
		// No stemmer: words are folded and kept whole, never an error.
		{"de", "Die Verhandlungen", []string{"verhandlungen"}},
		{"xx-unknown", "Verhandlungen gehen", []string{"verhandlungen", "gehen"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.text, func(t *testing.T) {
			got := terms(analyze("", tt.text, tt.lang))
			if !slices.Equal(got, tt.want) {
				t.Errorf("terms = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStopwordsNumbersURLs(t *testing.T) {
	got := terms(analyze("", "The talks are over, he said on 12 March 2014 at http://example.com/x?y=1 and mail a@b.org; magnitude 7.3, 1,000 dead", "en"))
	want := []string{"talk", "march", "2014", "mail", "magnitud", "7.3", "1000", "dead"}
	if !slices.Equal(got, want) {
		t.Errorf("terms = %q, want %q", got, want)
	}
}

func TestApostrophesHyphensAcronyms(t *testing.T) {
	got := terms(analyze("", "Japan's O'Brien don't l'Élysée state-of-the-art U.S. officials", "en"))
	// "Japan" starts the sentence but is followed by a name: a name run.
	want := []string{"#jp", "o'brien", "#jp o'brien", "élysé", "state", "art", "#us", "offici"}
	if !slices.Equal(got, want) {
		t.Errorf("terms = %q, want %q", got, want)
	}
}

func TestNames(t *testing.T) {
	occ := analyze("", "Police said Marco Rubio arrived in Geneva on Monday. Talks begin soon.", "en")
	names := map[string]bool{}
	for _, o := range occ {
		if o.name {
			names[o.surface] = true
		}
	}
	for _, n := range []string{"Marco", "Rubio", "Geneva", "Marco Rubio"} {
		if !names[n] {
			t.Errorf("%q not recognized as a name (names: %v)", n, names)
		}
	}
	for _, n := range []string{"Police", "Talks"} {
		if names[n] {
			t.Errorf("sentence-initial %q taken for a name", n)
		}
	}
	// In a Title Case headline capitals mean nothing, except acronyms.
	occ = analyze("Senate Passes Big Budget Bill After NASA Vote", "", "en")
	for _, o := range occ {
		if o.name != (o.surface == "NASA") {
			t.Errorf("title case: %q name=%v", o.surface, o.name)
		}
	}
}

func TestEmptyAndHugeInput(t *testing.T) {
	if occ := analyze("", "", "en"); len(occ) != 0 {
		t.Errorf("empty input gave %v", occ)
	}
	if occ := analyze("   \n\t ", "... --- !!!", "en"); len(occ) != 0 {
		t.Errorf("punctuation gave %v", occ)
	}
	huge := strings.Repeat("Negotiators in Geneva discussed sanctions again. ", 200000)
	toks := tokenize(huge)
	if len(toks) > maxTokens {
		t.Errorf("tokenize returned %d tokens, cap is %d", len(toks), maxTokens)
	}
	c := New(DefaultConfig(), nil)
	a := c.Add(Document{ID: "huge", Title: "Geneva sanctions", Text: huge})
	if ts, _ := c.Topic(a.TopicID); !a.New || ts.Size != 1 {
		t.Errorf("huge document: %+v", a)
	}
}

func TestPlainTextOnly(t *testing.T) {
	// The feeds package strips markup; the analyzer reads what it is given
	// and must not choke on stray markup characters.
	got := terms(analyze("", "Storm <b>hits</b> coast &amp; towns", "en"))
	for _, g := range got {
		if strings.ContainsAny(g, "<>&/") {
			t.Errorf("markup character in term %q", g)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "Hello, World!", "U.S.A. 7.3-magnitude l'été O'Brien's", "http://x.y @user a@b.c", "\xff\xfe", "переговоры — Ελλάδα 東京"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := tokenize(s)
		if len(toks) > maxTokens {
			t.Fatalf("%d tokens", len(toks))
		}
		for _, tk := range toks {
			if tk.text == "" || tk.lower == "" {
				t.Fatalf("empty token in %q", s)
			}
			if strings.ContainsFunc(tk.text, func(r rune) bool { return r == ' ' || r == '\n' }) {
				t.Fatalf("token %q contains space", tk.text)
			}
		}
		for _, lang := range []string{"en", "fr", "ru", "hu", "xx"} {
			for _, o := range analyze(s, s, lang) {
				if o.term == "" || !utf8.ValidString(o.surface) && utf8.ValidString(s) {
					t.Fatalf("bad occurrence %+v for %q", o, s)
				}
			}
		}
	})
}

// TestPunctuationEndsNameRuns: a comma or a full stop between two names
// separates them ("Paris, Texas" is no name bigram), while the dot of an
// acronym or an abbreviation belongs to its word.
func TestPunctuationEndsNameRuns(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Storms hit Paris, Texas today.", []string{"storm", "hit", "pari", "texa"}},
		{"Talks with Rubio. Yermak said no.", []string{"talk", "rubio", "yermak"}},
		{"Police met Sen. Rubio today.", []string{"polic", "met", "sen", "rubio", "sen rubio"}},
		{"Police met N.A.T.O. Allies today.", []string{"polic", "met", "nato", "alli", "nato alli"}},
	}
	for _, tt := range tests {
		if got := terms(analyze("", tt.text, "en")); !slices.Equal(got, tt.want) {
			t.Errorf("%q: terms %q, want %q", tt.text, got, tt.want)
		}
	}
}
