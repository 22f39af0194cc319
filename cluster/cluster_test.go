package cluster

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)

// corpus is a small hand-written stream: two storylines that share
// vocabulary (a rehab story about two different actresses, as in ECB+) and
// an unrelated one.
var corpus = []struct{ id, title, text, want string }{
	{"a1", "Tara Reid checks into rehab", "Actress Tara Reid has checked into a rehab facility in Malibu, her publicist said.", "reid"},
	{"b1", "Peace talks open in Geneva", "Delegations from both sides met in Geneva on Monday for peace talks brokered by the United Nations.", "geneva"},
	{"c1", "Lindsay Lohan enters rehab again", "Lindsay Lohan entered a rehab clinic in California after a court ordered treatment.", "lohan"},
	{"a2", "Tara Reid in Malibu rehab", "Tara Reid is receiving treatment at a Malibu rehab center, a spokesman for the actress said.", "reid"},
	{"b2", "Geneva talks stall over ceasefire", "The Geneva peace talks stalled on Tuesday as delegations disagreed over a ceasefire, United Nations envoys said.", "geneva"},
	{"c2", "Lohan starts court-ordered rehab", "Lindsay Lohan began her court-ordered stay at a rehab clinic in California on Thursday.", "lohan"},
	{"b3", "Ceasefire deal reached at Geneva talks", "Negotiators in Geneva reached a ceasefire deal, ending a week of peace talks under United Nations auspices.", "geneva"},
	{"a3", "Tara Reid leaves Malibu rehab facility", "Tara Reid left the Malibu rehab facility after two weeks, her publicist said.", "reid"},
	{"c3", "Judge praises Lohan rehab progress", "A judge said Lindsay Lohan made progress at the California rehab clinic ordered by the court.", "lohan"},
}

func runCorpus(t *testing.T, c *Clusterer) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	for i, d := range corpus {
		a := c.Add(Document{ID: d.id, Title: d.title, Text: d.text, Time: t0.Add(time.Duration(i) * time.Hour)})
		got[d.id] = a.TopicID
	}
	return got
}

func TestAssignSmallCorpus(t *testing.T) {
	c := New(DefaultConfig(), nil)
	got := runCorpus(t, c)
	for _, x := range corpus {
		for _, y := range corpus {
			same := got[x.id] == got[y.id]
			if same != (x.want == y.want) {
				t.Errorf("%s and %s: same topic = %v, want %v (topics %v)", x.id, y.id, same, !same, got)
			}
		}
	}
	if n := len(c.Topics()); n != 3 {
		t.Errorf("%d topics, want 3", n)
	}
}

func TestLabelsUseSurfaceForms(t *testing.T) {
	c := New(DefaultConfig(), nil)
	got := runCorpus(t, c)
	tp, ok := c.Topic(got["b1"])
	if !ok {
		t.Fatal("Geneva topic not open")
	}
	if !strings.Contains(tp.Label, "Geneva") {
		t.Errorf("label %q lacks the surface form Geneva", tp.Label)
	}
	for _, stem := range []string{"genev", "ceasefir", "talk "} {
		if strings.Contains(tp.Label+" ", stem+" ") {
			t.Errorf("label %q shows a stem", tp.Label)
		}
	}
	tp, _ = c.Topic(got["c1"])
	if !strings.Contains(tp.Label, "Lohan") {
		t.Errorf("label %q lacks Lohan", tp.Label)
	}
	if tp.Headline == "" || tp.Size != 3 {
		t.Errorf("topic %+v: want a headline and 3 stories", tp)
	}
	// The headline is one of the topic's stories.
	found := false
	for _, d := range corpus {
		if d.id == tp.HeadlineID && d.title == tp.Headline {
			found = true
		}
	}
	if !found {
		t.Errorf("headline %q (%s) is not a story of the topic", tp.Headline, tp.HeadlineID)
	}
}

func TestBestForm(t *testing.T) {
	forms := []Form{
		{Text: "talks", Count: 3, Lower: 2},
		{Text: "talk", Count: 1, Lower: 1},
	}
	if got := bestForm(forms, "talk"); got != "talks" {
		t.Errorf("bestForm = %q", got)
	}
	forms = []Form{{Text: "geneva", Count: 4, Cased: 2, CasedText: "Geneva"}}
	if got := bestForm(forms, "genev"); got != "Geneva" {
		t.Errorf("bestForm = %q", got)
	}
}

// stream returns a synthetic stream: n stories from k storylines that share
// a common vocabulary, with times spread over several windows.
func stream(seed uint64, n int, spread time.Duration) []Document {
	r := rand.New(rand.NewPCG(seed, 7))
	common := strings.Fields("government officials market report police court company plan deal week city country")
	docs := make([]Document, n)
	for i := range docs {
		k := r.IntN(40)
		var title, text []string
		for j := 0; j < 3; j++ {
			title = append(title, fmt.Sprintf("Topic%dname%d", k, r.IntN(4)))
		}
		title = append(title, common[r.IntN(len(common))])
		for j := 0; j < 20; j++ {
			if r.IntN(2) == 0 {
				text = append(text, fmt.Sprintf("story%dword%d", k, r.IntN(12)))
			} else {
				text = append(text, common[r.IntN(len(common))])
			}
		}
		docs[i] = Document{
			ID: fmt.Sprint("d", i), Title: strings.Join(title, " "), Text: strings.Join(text, " ") + ".",
			Time: t0.Add(time.Duration(i) * spread / time.Duration(n)),
		}
	}
	return docs
}

func TestDeterministic(t *testing.T) {
	docs := stream(1, 600, 10*24*time.Hour)
	run := func() ([]Assignment, State) {
		c := New(DefaultConfig(), nil)
		var out []Assignment
		for _, d := range docs {
			out = append(out, c.Add(d))
		}
		return out, c.Snapshot()
	}
	a1, s1 := run()
	a2, s2 := run()
	if !reflect.DeepEqual(a1, a2) || !reflect.DeepEqual(s1, s2) {
		t.Fatal("two runs over the same stream differ")
	}
}

// TestRestartEquality clusters half a stream, saves the state through JSON
// and through gob, restores, clusters the rest, and requires exactly the
// assignments and topics of one uninterrupted run. It also rebuilds the
// state the way a store would, from the Assignments alone.
func TestRestartEquality(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spread time.Duration
		late   bool // every 6th story 5 days late, among retired topics
	}{{"timed", 10 * 24 * time.Hour, false}, {"late", 30 * 24 * time.Hour, true}, {"untimed", 0, false}} {
		t.Run(tc.name, func(t *testing.T) {
			docs := stream(2, 800, tc.spread)
			for i := range docs {
				switch {
				case tc.spread == 0:
					docs[i].Time = time.Time{}
				case tc.late && i%6 == 5:
					docs[i].Time = docs[i].Time.Add(-5 * 24 * time.Hour)
				}
			}
			full := New(DefaultConfig(), nil)
			var want []Assignment
			for _, d := range docs {
				want = append(want, full.Add(d))
			}
			half := len(docs) / 2
			first := New(DefaultConfig(), nil)
			store := newFakeStore()
			for i, d := range docs[:half] {
				store.save(first.Add(d))
				// Saved in batches, as a store does, so that topics
				// that close inside a batch are saved as they closed.
				if i%7 == 6 || i == half-1 {
					store.saveTopics(changed(first))
				}
			}
			codecs := map[string]func(State) State{
				"json":  jsonRoundTrip,
				"gob":   gobRoundTrip,
				"store": func(State) State { return store.load() },
			}
			for name, codec := range codecs {
				st := codec(first.Snapshot())
				c := New(DefaultConfig(), &st)
				for i, d := range docs[half:] {
					got := c.Add(d)
					if !reflect.DeepEqual(got, want[half+i]) {
						t.Fatalf("%s: story %d after restart: got topic %d (new %v), want %d (new %v)",
							name, half+i, got.TopicID, got.New, want[half+i].TopicID, want[half+i].New)
					}
				}
				if !reflect.DeepEqual(jsonRoundTrip(c.Snapshot()), jsonRoundTrip(full.Snapshot())) {
					t.Fatalf("%s: final state differs", name)
				}
			}
		})
	}
}

func jsonRoundTrip(st State) State {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	var out State
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func gobRoundTrip(st State) State {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(st); err != nil {
		panic(err)
	}
	var out State
	if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
		panic(err)
	}
	return out
}

// changed collects what Clusterer.Changed saves.
func changed(c *Clusterer) []TopicState {
	var out []TopicState
	c.Changed(func(ts TopicState) error {
		out = append(out, ts)
		return nil
	})
	return out
}

// fakeStore keeps what a database would, updated only from Assignments
// and Clusterer.Changed.
type fakeStore struct {
	docs   int64
	df     map[string]int64
	topics map[int64]TopicState
	lastID int64
	clock  time.Time
}

func newFakeStore() *fakeStore {
	return &fakeStore{df: map[string]int64{}, topics: map[int64]TopicState{}}
}

func (s *fakeStore) save(a Assignment) {
	s.docs++
	for _, term := range a.DocFreqTerms {
		s.df[term]++
	}
	for _, id := range a.Merged {
		delete(s.topics, id)
	}
	s.lastID = max(s.lastID, a.TopicID)
	if sp := a.Split; sp != nil {
		s.lastID = max(s.lastID, sp.To.ID)
	}
}

func (s *fakeStore) saveTopics(changed []TopicState) {
	for _, ts := range changed {
		s.topics[ts.ID] = jsonRoundTrip(State{Topics: []TopicState{ts}}).Topics[0]
		if ts.Last.After(s.clock) {
			s.clock = ts.Last
		}
	}
}

// load returns the state a store would load: the resident topics.
func (s *fakeStore) load() State {
	st := State{Docs: s.docs, DocFreq: s.df, LastTopicID: s.lastID, Clock: s.clock}
	cfg := DefaultConfig()
	for _, tp := range s.topics {
		if !tp.Kept.Before(s.clock.Add(-cfg.Window - cfg.History)) {
			st.Topics = append(st.Topics, tp) // map order: New must not care
		}
	}
	return st
}

func TestWindowClosesTopics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Window = time.Hour
	c := New(cfg, nil)
	a := c.Add(Document{ID: "1", Title: "Geneva peace talks open", Time: t0})
	b := c.Add(Document{ID: "2", Title: "Volcano erupts in Iceland", Time: t0.Add(30 * time.Minute)})
	// Two hours later the Geneva topic is closed: a new Geneva story opens a
	// new topic, and the Assignment says which topics closed.
	d := c.Add(Document{ID: "3", Title: "Geneva peace talks resume", Time: t0.Add(2 * time.Hour)})
	if !d.New || d.TopicID == a.TopicID {
		t.Errorf("story after the window joined closed topic %d", a.TopicID)
	}
	if !reflect.DeepEqual(d.Closed, []int64{a.TopicID, b.TopicID}) {
		t.Errorf("Closed = %v, want [%d %d]", d.Closed, a.TopicID, b.TopicID)
	}
	if _, ok := c.Topic(a.TopicID); ok {
		t.Error("closed topic still open")
	}
}

// TestChangedKeepsClosedTopics: a store saves topic states once per batch
// (Changed); a topic that a story joined and that closed later in the same
// batch is saved as it was when it closed.
func TestChangedKeepsClosedTopics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Window = time.Hour
	c := New(cfg, nil)
	a := c.Add(Document{ID: "1", Title: "Geneva peace talks open", Time: t0})
	if got := changed(c); len(got) != 1 || got[0].ID != a.TopicID || got[0].Size != 1 {
		t.Fatalf("Changed after one story = %+v", got)
	}
	c.Add(Document{ID: "2", Title: "Geneva peace talks resume", Time: t0.Add(10 * time.Minute)})
	b := c.Add(Document{ID: "3", Title: "Volcano erupts in Iceland", Time: t0.Add(3 * time.Hour)})
	got := changed(c)
	if len(got) != 2 || got[0].ID != a.TopicID || got[0].Size != 2 || got[1].ID != b.TopicID {
		t.Fatalf("Changed = %+v, want the closed Geneva topic of 2 stories, then %d", got, b.TopicID)
	}
	if got := changed(c); len(got) != 0 {
		t.Errorf("second Changed = %+v, want nothing", got)
	}
}

func TestUntimedStoriesStayActive(t *testing.T) {
	c := New(DefaultConfig(), nil)
	first := c.Add(Document{ID: "1", Title: "Geneva peace talks open"})
	for i := 0; i < 50; i++ {
		c.Add(Document{ID: fmt.Sprint("x", i), Title: fmt.Sprintf("Unrelated story number%d about thing%d", i, i)})
	}
	last := c.Add(Document{ID: "2", Title: "Geneva peace talks stall"})
	if last.TopicID != first.TopicID {
		t.Errorf("untimed story opened topic %d instead of joining %d", last.TopicID, first.TopicID)
	}
}

func TestTopicIDsMonotonic(t *testing.T) {
	c := New(DefaultConfig(), nil)
	var prev int64
	for _, d := range stream(3, 300, 24*time.Hour) {
		a := c.Add(d)
		if a.New {
			if a.TopicID <= prev {
				t.Fatalf("new topic %d after %d", a.TopicID, prev)
			}
			prev = a.TopicID
		}
	}
}

func TestEmptyDocument(t *testing.T) {
	c := New(Config{}, nil)
	a := c.Add(Document{ID: "e"})
	b := c.Add(Document{ID: "f", Title: "the and of"})
	if !a.New || !b.New || a.TopicID == b.TopicID {
		t.Errorf("empty documents: %+v %+v", a, b)
	}
}

// TestShortHeadlinesSharingOneWord feeds four unrelated events told in
// short headlines by three outlets, each with the same boilerplate body, as
// many feeds deliver them. Two events share a common headline verb
// ("closed", "shut"); with so few stories the IDF cannot discount the
// boilerplate, and one shared verb plus boilerplate must not join a
// storm to a rail accident. Every event must end up in a topic of its own.
func TestShortHeadlinesSharingOneWord(t *testing.T) {
	events := [][]string{
		{"Coastal railway closed after landslide near Pellmoor", "Landslide buries Pellmoor railway, line closed",
			"Pellmoor rail line shut as hillside collapses onto tracks", "Crews clear landslide from Pellmoor railway",
			"Pellmoor railway to remain closed for a month after landslide"},
		{"Ice storm closes schools across the eastern valley", "Freezing rain shuts eastern valley schools",
			"Eastern valley schools closed as ice storm hits", "Ice storm warning extended for eastern valley"},
		{"Marbury Rovers win the regional cup final", "Cup final: Marbury Rovers lift the regional trophy",
			"Late goal hands Marbury Rovers regional cup", "Marbury Rovers beat holders in regional cup final"},
		{"Voters in Tessaly elect new mayor", "Tessaly mayoral election won by newcomer",
			"Newcomer elected mayor of Tessaly", "Tessaly mayor-elect promises budget review"},
	}
	c := New(DefaultConfig(), nil)
	topicOf := topicMap{}
	n := 0
	for round := 0; round < 5; round++ {
		for ev, heads := range events {
			if round >= len(heads) {
				continue
			}
			n++
			id := fmt.Sprintf("e%d-%d", ev, round)
			a := c.Add(Document{
				ID: id, Title: heads[round], Text: heads[round] + ". Full story to follow shortly.",
				Time: t0.Add(time.Duration(n) * 29 * time.Minute),
			})
			a.Apply(topicOf)
		}
	}
	for x, tx := range topicOf {
		for y, ty := range topicOf {
			if x[:2] != y[:2] && tx == ty {
				t.Errorf("%s and %s (different events) share topic %d", x, y, tx)
			}
		}
	}
	if got := len(c.Topics()); got < 4 {
		t.Errorf("%d topics for 4 events", got)
	}
}

// TestAddAnalyzed: stories analyzed apart (Analyzer) cluster exactly as
// Add clusters them, and an analysis for another configuration is redone.
func TestAddAnalyzed(t *testing.T) {
	docs := stream(3, 400, 10*24*time.Hour)
	want, c := New(DefaultConfig(), nil), New(DefaultConfig(), nil)
	other := DefaultConfig()
	other.TitleWeight = 5
	an, stale := NewAnalyzer(DefaultConfig()), NewAnalyzer(other)
	for i, d := range docs {
		x := an.Analyze(d)
		if i%10 == 0 {
			x = stale.Analyze(d)
		}
		if got, exp := c.AddAnalyzed(x), want.Add(d); !reflect.DeepEqual(got, exp) {
			t.Fatalf("story %d: AddAnalyzed gave topic %d, Add %d", i, got.TopicID, exp.TopicID)
		}
	}
	if !reflect.DeepEqual(jsonRoundTrip(c.Snapshot()), jsonRoundTrip(want.Snapshot())) {
		t.Error("final states differ")
	}
}
