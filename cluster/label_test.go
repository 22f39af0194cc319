package cluster

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSameWord(t *testing.T) {
	picked := []cand{{words: []string{"ukrain"}}, {words: []string{"marco", "rubio"}}}
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

// labelOf clusters the headlines in order, with the unrelated ones between
// them (so that the IDF has something to compare with), and returns the
// label of the topic of the first headline.
func labelOf(t *testing.T, heads, others []string) (string, TopicState) {
	t.Helper()
	f := newFeed(DefaultConfig())
	for i, h := range heads {
		f.add(fmt.Sprint("h", i), h, "")
		if i < len(others) {
			f.add(fmt.Sprint("o", i), others[i], "")
		}
	}
	for i := len(heads); i < len(others); i++ {
		f.add(fmt.Sprint("o", i), others[i], "")
	}
	ts, ok := f.c.Topic(f.topic["h0"])
	if !ok {
		t.Fatal("the first headline's topic is gone")
	}
	return ts.Label, ts
}

var unrelatedHeads = []string{
	"Amber snow warning issued as Storm Maren heads north",
	"Quillon Semiconductor launches Aster X9 processor",
	"Night train between Vienna and Barcelona to return",
	"Harrowfield Rovers win the National Cup",
	"Aldmoor Airport adds six summer routes",
	"European shares close mixed as banks slip",
}

// TestPhraseSharedByHeadlines: a storyline is named by the phrase its
// headlines share, as written, not by the verbs that differ from outlet to
// outlet nor by a bag of terms.
func TestPhraseSharedByHeadlines(t *testing.T) {
	heads := []string{
		"US and Ukrainian negotiators resume Geneva talks",
		"Geneva talks: delegations agree refined framework",
		"Rubio upbeat as Geneva talks enter second day",
		"Ukraine and US return to Geneva talks on peace plan",
		"Geneva talks end with joint statement",
	}
	label, ts := labelOf(t, heads, unrelatedHeads)
	if ts.Size != len(heads) {
		t.Fatalf("the Geneva headlines made a topic of %d stories, want %d", ts.Size, len(heads))
	}
	if label != "Geneva talks" {
		t.Errorf("label %q, want \"Geneva talks\" (headline %q)", label, ts.Headline)
	}
}

// TestPhraseOfOneHeadline: a storyline of one story is named by a phrase
// of its headline as written there (hyphen and capitals kept), never one
// that starts with or runs into the verb after the subject.
func TestPhraseOfOneHeadline(t *testing.T) {
	tests := []struct {
		head  string
		verbs []string // words the name must not hold
	}{
		{"Kremlin dismisses European counter-proposal as 'nothing to build on'", []string{"dismisses"}},
		{"Aldmoor Airport adds six summer routes as passenger numbers recover", []string{"adds"}},
		{"Valmont elects its first Green mayor", []string{"elects"}},
		{"Vidal's extra-time strike wins National Cup for Harrowfield Rovers", []string{"wins"}},
		{"Microsoft shooting on 'Titanfall' to fire up Xbox One sales", []string{"fire", "shooting"}},
		{"American Airlines, JetBlue ending agreement", []string{"ending"}},
	}
	for _, tt := range tests {
		label, ts := labelOf(t, []string{tt.head}, unrelatedHeads[:3])
		if ts.Headline != tt.head {
			t.Fatalf("headline %q, want %q", ts.Headline, tt.head)
		}
		words := strings.Fields(label)
		if len(words) < 2 || len(words) > maxPhraseWords {
			t.Errorf("%q: label %q is not a phrase of 2 to %d words", tt.head, label, maxPhraseWords)
		}
		if !strings.Contains(tt.head, label) && !strings.Contains(tt.head, strings.ToLower(label[:1])+label[1:]) {
			t.Errorf("%q: label %q is not a phrase of the headline as written", tt.head, label)
		}
		for _, w := range words {
			if slices.Contains(tt.verbs, strings.ToLower(w)) {
				t.Errorf("%q: label %q holds the verb %q", tt.head, label, w)
			}
		}
		if strings.HasSuffix(label, "-") || strings.HasSuffix(label, "'s") {
			t.Errorf("%q: label %q ends inside a word", tt.head, label)
		}
		if strings.ContainsAny(label, ",:;") || strings.Contains(label, "' ") || strings.Contains(label, " '") ||
			strings.HasSuffix(label, "'") || strings.HasPrefix(label, "'") {
			t.Errorf("%q: label %q crosses punctuation or a quotation mark", tt.head, label)
		}
	}
}

// TestNameIsAPhraseOfTheHeadline: when no span of a headline stops before
// what looks like its verb, the name runs on past it ("Microsoft releases
// emergency patch", "Cowan confessions": a noun after the subject reads
// like a verb), and when no span holds a heavy term, the heaviest name
// alone names the storyline, rather than a bag of terms in an order no
// headline has.
func TestNameIsAPhraseOfTheHeadline(t *testing.T) {
	tests := []struct{ head, want string }{
		{"Microsoft releases emergency patch for IE", ""},
		{"Cowan confessions are 'so powerful'", ""},
		{"Why Herbalife (HLF) Is Up Today", "Herbalife"},
		{"Addicted to 'Titanfall'", "Titanfall"}, // a capital inside the sentence
	}
	for _, tt := range tests {
		label, _ := labelOf(t, []string{tt.head}, unrelatedHeads[:3])
		words := strings.Fields(label)
		if len(words) == 0 || len(words) > maxPhraseWords || !strings.Contains(strings.ToLower(tt.head), strings.ToLower(label)) {
			t.Errorf("%q: label %q is not a phrase of the headline", tt.head, label)
		}
		if tt.want != "" && label != tt.want {
			t.Errorf("%q: label %q, want %q", tt.head, label, tt.want)
		}
	}
}

// TestPhraseTitleCase: in a Title Case headline capitals say nothing, so a
// word is lowered in the name only where the storyline's stories write it
// in lower case; names keep their capitals.
func TestPhraseTitleCase(t *testing.T) {
	c := New(DefaultConfig(), nil)
	for i, h := range unrelatedHeads {
		c.Add(Document{ID: fmt.Sprint("o", i), Title: h, Time: t0})
	}
	var a Assignment
	for i, h := range []string{
		"US and Ukrainian negotiators resume Geneva talks",
		"Delegations meet for second day of Geneva talks",
		"Joint statement ends Geneva talks",
	} {
		a = c.Add(Document{ID: fmt.Sprint(i), Title: h, Time: t0})
	}
	tp := c.topics[a.TopicID]
	if tp.size != 3 {
		t.Fatalf("the Geneva headlines made a topic of %d stories, want 3", tp.size)
	}
	tp.headline = "Geneva Talks Resume On Peace Plan"
	if p := c.phrase(tp); p != "Geneva talks" {
		t.Errorf("phrase %q, want \"Geneva talks\"", p)
	}
}

// TestPhraseFallsBackToTerms: a headline that says nothing of its
// storyline's heaviest words (a columnist's name) gives no phrase; the
// label is then made of the storyline's terms.
func TestPhraseFallsBackToTerms(t *testing.T) {
	c := New(DefaultConfig(), nil)
	tp := &topic{id: 1, headline: "Michael Starr"}
	c.open(tp)
	d := Document{ID: "1", Title: "Flash costume revealed as Grant Gustin suits up", Time: t0}
	vec := c.analyzeDoc(d)
	stats := make([]*termStat, len(vec.terms))
	for i, term := range vec.terms {
		stats[i] = c.stat(term)
		c.setDF(stats[i], 1)
	}
	c.join(tp, d, t0, &vec, stats)
	tp.headline = "Michael Starr"
	if p := c.phrase(tp); p != "" {
		t.Errorf("phrase %q from a headline without the topic's words", p)
	}
	if l := c.label(tp); l == "" || strings.Contains(l, "Michael") {
		t.Errorf("label %q, want the topic's terms", l)
	}
}

// TestTermLabelSaysEachWordOnce: name bigrams that overlap ("Kansas City",
// "City Chiefs") make one name in a label made of terms, "Kansas City
// Chiefs", not "Kansas City City Chiefs".
func TestTermLabelSaysEachWordOnce(t *testing.T) {
	c := New(DefaultConfig(), nil)
	tp := &topic{id: 1}
	c.open(tp)
	// The two bigrams weigh most, as in a storyline whose stories all
	// name the team in full.
	terms := []string{"chief", "citi", "citi chief", "kansa", "kansa citi", "reggi", "reggi wayn", "wayn"}
	weight := map[string]float64{"kansa citi": 4, "citi chief": 3.5, "reggi wayn": 3}
	vec := docVector{terms: terms, u: make([]float64, len(terms)), forms: make([][]surface, len(terms)),
		head: make([]bool, len(terms)), name: make([]bool, len(terms))}
	stats := make([]*termStat, len(terms))
	for i, term := range terms {
		vec.u[i], vec.name[i] = cmp.Or(weight[term], 1), true
		stats[i] = c.stat(term)
		c.setDF(stats[i], 1)
	}
	c.join(tp, Document{ID: "1", Time: t0}, t0, &vec, stats)
	label := c.termLabel(tp)
	seen := map[string]bool{}
	for _, w := range strings.Fields(label) {
		if seen[w] {
			t.Errorf("label %q says %q twice", label, w)
		}
		seen[w] = true
	}
	// The two bigrams make one name, in its order (the terms have no
	// spellings here, so the label shows them as terms).
	if !strings.Contains(label, "kansa citi chief") {
		t.Errorf("label %q does not run the bigrams into one name", label)
	}
}

// TestNameWithACountryOfTwoWords: a country named in two words is one word
// of a name: no phrase ends inside it, and a run of name bigrams through
// it keeps both words.
func TestNameWithACountryOfTwoWords(t *testing.T) {
	for head, want := range map[string]string{
		"Addicted to 'New Zealand'":                           "New Zealand",
		"Earthquake hits New Zealand":                         "New Zealand",
		"ADDICTED, 'TITANFALL'":                               "Titanfall",   // a shouted name, raised
		"Refugees flee to South Sudan":                        "South Sudan", // two words of a phrase
		"Ceasefire talks for South Sudan open in Addis Ababa": "South Sudan",
	} {
		label, _ := labelOf(t, []string{head}, unrelatedHeads[:3])
		if !strings.Contains(label, want) || strings.HasSuffix(label, "New") {
			t.Errorf("%q: label %q, want it to hold %q", head, label, want)
		}
		if n := len(strings.Fields(label)); n > maxPhraseWords {
			t.Errorf("%q: label %q has %d words, more than %d", head, label, n, maxPhraseWords)
		}
	}
	c := New(DefaultConfig(), nil)
	tp := &topic{id: 1}
	c.open(tp)
	terms := []string{"#nz", "air", "air #nz", "crash", "virgin", "virgin air"}
	spelling := map[string]string{"air #nz": "Air New Zealand", "virgin air": "Virgin Air", "#nz": "New Zealand"}
	weight := map[string]float64{"virgin air": 4, "air #nz": 3.5}
	vec := docVector{terms: terms, u: make([]float64, len(terms)), forms: make([][]surface, len(terms)),
		head: make([]bool, len(terms)), name: make([]bool, len(terms))}
	stats := make([]*termStat, len(terms))
	for i, term := range terms {
		vec.u[i], vec.name[i] = cmp.Or(weight[term], 1), true
		if sp, ok := spelling[term]; ok {
			vec.forms[i] = []surface{{text: sp, lower: strings.ToLower(sp), cased: true, upper: true, n: 1}}
		}
		stats[i] = c.stat(term)
		c.setDF(stats[i], 1)
	}
	c.join(tp, Document{ID: "1", Time: t0}, t0, &vec, stats)
	if label := c.termLabel(tp); !strings.Contains(label, "Virgin Air New Zealand") {
		t.Errorf("label %q, want the name run on to \"Virgin Air New Zealand\"", label)
	}
}

// TestLabelIndependentOfReads: a label depends on the stream of stories
// alone: reading topics, saving their states or restarting from a
// Snapshot in the middle of the stream gives the label of an uninterrupted
// run.
func TestLabelIndependentOfReads(t *testing.T) {
	geneva := []string{
		"Geneva peace talks resume with delegations",
		"Delegations arrive as Geneva peace talks resume",
		"Geneva peace talks: delegations meet",
	}
	run := func(mode int) string {
		c := New(DefaultConfig(), nil)
		for i, o := range unrelatedHeads {
			c.Add(Document{ID: fmt.Sprint("o", i), Title: o, Time: t0})
		}
		var id int64
		for i, h := range geneva {
			id = c.Add(Document{ID: fmt.Sprint("g", i), Title: h, Time: t0}).TopicID
		}
		switch mode {
		case 1:
			st := c.Snapshot()
			c = New(DefaultConfig(), &st)
		case 2:
			c.Topic(id)
			c.Topics()
		case 3:
			changed(c)
		}
		for i := range 60 {
			c.Add(Document{ID: fmt.Sprint("x", i), Title: fmt.Sprintf("Zorb%d resume Town%d Quux%d", i, i, i), Time: t0})
		}
		ts, _ := c.Topic(id)
		return ts.Label
	}
	want := run(0)
	for mode, name := range []string{1: "restart", 2: "reads", 3: "Changed"} {
		if mode == 0 {
			continue
		}
		if got := run(mode); got != want {
			t.Errorf("after %s mid-stream: label %q, uninterrupted %q", name, got, want)
		}
	}
}

// TestPhraseAwkwardHeadlines: headlines with dotted acronyms, curly
// apostrophes, invalid UTF-8 and nothing but stopwords give a name that is
// valid text, keeps an acronym's closing dot and drops a possessive, and
// never panic.
func TestPhraseAwkwardHeadlines(t *testing.T) {
	for _, h := range []string{
		"Talks with U.S. Navy stall",
		"Talks with the U.S. stall",
		"New U.K. rules on visas",
		"Tributes paid to Sean O’Brien’s",
		"\xff\xff\xffStorm Maren hits coast",
		"Storm \xffMaren\xff hits coast",
		"The and of it",
		"Apple www.apple.com launches iPhone Pro",
		"ǆungla ǆ vodič",
	} {
		var label string
		f := newFeed(DefaultConfig())
		for i, o := range unrelatedHeads {
			f.add(fmt.Sprint("o", i), o, "")
		}
		for i := range 3 {
			f.add(fmt.Sprint("h", i), h, "")
		}
		ts, _ := f.c.Topic(f.topic["h0"])
		label = ts.Label
		if !utf8.ValidString(label) {
			t.Errorf("%q: label %q is not valid UTF-8", h, label)
		}
		if strings.Contains(label, "U.S") && !strings.Contains(label, "U.S.") ||
			strings.Contains(label, "U.K") && !strings.Contains(label, "U.K.") {
			t.Errorf("%q: label %q lost an acronym's closing dot", h, label)
		}
		if strings.HasSuffix(label, "’s") || strings.HasSuffix(label, "'s") {
			t.Errorf("%q: label %q ends with a possessive", h, label)
		}
	}
}

// TestPhraseKeepsNamesWhole: a name is not cut inside a name of several
// words: not before the capitalized word that ends it ("Doctor Who",
// "Xbox One") nor at an abbreviation's dot ("Mt. Gox").
func TestPhraseKeepsNamesWhole(t *testing.T) {
	tests := []struct {
		heads []string
		cuts  []string // what the label must not start or end with
	}{
		{[]string{
			"Peter Capaldi to replace Matt Smith as Doctor Who",
			"Matt Smith to leave Doctor Who at Christmas",
			"Who will follow Matt Smith as Doctor Who?",
		}, []string{"Doctor"}},
		{[]string{
			"Bitcoin exchange Mt. Gox files for bankruptcy",
			"Mt. Gox halts withdrawals as bitcoin exchange struggles",
			"Bitcoin exchange Mt. Gox goes offline",
		}, []string{"Mt", "Gox"}},
		{[]string{
			"Microsoft cuts price of Xbox One",
			"Price cut for Xbox One",
			"Xbox One price cut announced",
		}, []string{"Xbox"}},
	}
	for _, tt := range tests {
		label, ts := labelOf(t, tt.heads, unrelatedHeads)
		if ts.Size != len(tt.heads) {
			t.Fatalf("%q: a topic of %d stories, want %d", tt.heads[0], ts.Size, len(tt.heads))
		}
		words := strings.Fields(label)
		if len(words) == 0 {
			t.Fatalf("%q: empty label", tt.heads[0])
		}
		for _, c := range tt.cuts {
			if strings.TrimSuffix(words[len(words)-1], ".") == c && len(words) > 1 || words[0] == c && c == "Gox" {
				t.Errorf("label %q cuts a name at %q (headline %q)", label, c, ts.Headline)
			}
		}
	}
}
