package cluster

import (
	"slices"
	"testing"
)

func TestCountryNames(t *testing.T) {
	tests := []struct {
		title, text string
		want        []string
	}{
		{"", "Britain, France and Germany agree.", []string{"#gb", "#fr", "#de", "agre"}},
		{"", "British, French and German officials agree.", []string{"#gb", "#fr", "#de", "offici", "agre"}},
		// Hyphens join names into a run, as in "Jean-Claude Juncker".
		{"", "A UK-French-German draft.", []string{"#gb", "#fr", "#gb #fr", "#de", "#fr #de", "draft"}},
		{"", "Envoys of the United Kingdom and the U.S. met.", []string{"envoy", "#gb", "#us", "met"}},
		{"", "Americans and Israelis voted.", []string{"#us", "#il", "vote"}},
		// A short name must be written in capitals: "us" and "Us" are
		// the pronoun.
		{"", "Tell us more. Us too.", []string{"tell"}},
		// At a headline's start, where "US" would be a stopword.
		{"US officials meet", "", []string{"#us", "offici", "meet"}},
		// A country inside a run of names makes name bigrams like any name.
		{"", "Talks with German Chancellor Merz ended.", []string{"talk", "#de", "chancellor", "#de chancellor", "merz", "chancellor merz", "end"}},
		// "Dominican" names two countries, so neither.
		{"", "Dominican voters", []string{"dominican", "voter"}},
	}
	for _, tt := range tests {
		if got := terms(analyze(tt.title, tt.text, "en")); !slices.Equal(got, tt.want) {
			t.Errorf("%q %q: terms %q, want %q", tt.title, tt.text, got, tt.want)
		}
	}
	occ := analyze("", "The United Kingdom said", "en")
	if occ[0].surface != "United Kingdom" || !occ[0].name {
		t.Errorf("occurrence %+v, want the name United Kingdom as written", occ[0])
	}
	// A possessive is no part of the name that labels show.
	for text, want := range map[string]string{
		"Talks in Britain’s capital": "Britain",
		"Talks in Japan's capital":   "Japan",
		"The United Kingdom's plan":  "United Kingdom",
		"A UK-French deal":           "UK",
	} {
		got := ""
		for _, o := range analyze("", text, "en") {
			if o.term[0] == '#' && !o.bigram {
				got = o.surface
				break
			}
		}
		if got != want {
			t.Errorf("%q: country written %q, want %q", text, got, want)
		}
	}
}

// TestCountryFormsGather: outlets that name the same countries by their
// names, demonyms and abbreviations report one storyline; read word by
// word, its headlines share too little to meet.
func TestCountryFormsGather(t *testing.T) {
	docs := []Document{
		{ID: "b1", Title: "Britain, France and Germany draft counter-proposal to US peace plan", Text: "The three European powers sent their own version of the framework to Washington and Kyiv."},
		{ID: "x1", Title: "Harrowfield Rovers win National Cup final", Text: "A late header settled the final at the national stadium."},
		{ID: "b2", Title: "European powers table rival peace draft", Text: "British, French and German officials said their counter-draft keeps Ukraine's army at full strength."},
		{ID: "x2", Title: "Aster unveils X9 phone with foldable screen", Text: "The company's new flagship goes on sale next month."},
		{ID: "b3", Title: "Kremlin rejects European counter-proposal", Text: "Moscow said the British, French and German draft was 'not constructive' and ignored Russia's demands."},
		{ID: "x3", Title: "Storm Maren brings gales and flooding to the coast", Text: "Forecasters issued red warnings for wind along the western shore."},
		{ID: "b4", Title: "Moscow dismisses UK-French-German peace draft", Text: "A Kremlin spokesman said the European counter-proposal did not suit Russia."},
		{ID: "x4", Title: "Rovers lift the National Cup after late winner", Text: "Harrowfield's captain scored in the 89th minute."},
		{ID: "b5", Title: "Russia says European plan for Ukraine is unacceptable", Text: "The Kremlin rejected the counter-proposal drawn up by Britain, France and Germany."},
		{ID: "x5", Title: "Aster X9 foldable phone launched", Text: "Reviewers praised the hinge and criticised the battery life."},
		{ID: "x6", Title: "Red wind warning as Storm Maren arrives", Text: "Ferries were cancelled and coastal roads closed."},
	}
	run := func() map[string]int64 {
		c := New(DefaultConfig(), nil)
		topic := topicMap{}
		for _, d := range docs {
			a := c.Add(d)
			a.Apply(topic)
		}
		return topic
	}
	topic := run()
	for _, id := range []string{"b2", "b3", "b4", "b5"} {
		if topic[id] != topic["b1"] {
			t.Errorf("%s in topic %d, b1 in %d: the storyline is not whole (%v)", id, topic[id], topic["b1"], topic)
		}
	}
	for _, id := range []string{"x1", "x2", "x3", "x4", "x5", "x6"} {
		if topic[id] == topic["b1"] {
			t.Errorf("%s joined the storyline", id)
		}
	}

	// Each of the storyline's stories matches the first one better
	// through the country table than word by word; the one that names the
	// countries only by abbreviation and demonyms ("UK-French-German")
	// matches it only through the table.
	pair := func(d Document) Assignment {
		c := New(DefaultConfig(), nil)
		c.Add(docs[0])
		return c.Add(d)
	}
	story := []Document{docs[2], docs[4], docs[6], docs[8]}
	var with []Assignment
	for _, d := range story {
		with = append(with, pair(d))
	}
	countryOnce.Do(loadCountries)
	saved := countries
	countries = nil
	defer func() { countries = saved }()
	for i, d := range story {
		without := pair(d)
		if with[i].Similarity <= without.Similarity {
			t.Errorf("%s: similarity %.3f with the country table, %.3f without", d.ID, with[i].Similarity, without.Similarity)
		}
		if d.ID == "b4" && (with[i].New || !without.New) {
			t.Errorf("b4 opened a topic: %v with the country table, %v without; want false, true", with[i].New, without.New)
		}
	}
}
