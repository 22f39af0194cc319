package cluster

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// tracker keeps each topic's stories, as a caller of the clusterer does,
// and answers split checks with them.
type tracker struct {
	members map[int64][]Document
	topicOf map[string]int64
	splits  []*Split
	cur     Document // the story being followed
}

func newTracker() *tracker {
	return &tracker{members: map[int64][]Document{}, topicOf: map[string]int64{}}
}

// answer completes an Add as a store does: a split check gets the topic's
// stories.
func (tr *tracker) answer(c *Clusterer, a Assignment) Assignment {
	if a.SplitCheck != 0 {
		return c.CheckSplit(slices.Clone(tr.members[a.SplitCheck]))
	}
	return a
}

// follow records what Add did with d, as a store does (Assignment.Apply).
func (tr *tracker) follow(d Document, a Assignment) {
	if a.Split != nil {
		tr.splits = append(tr.splits, a.Split)
	}
	tr.cur = d
	if err := a.Apply(tr); err != nil {
		panic(err)
	}
}

func (tr *tracker) Merge(from, to int64) error {
	for _, x := range tr.members[from] {
		tr.topicOf[x.ID] = to
	}
	tr.members[to] = append(tr.members[to], tr.members[from]...)
	delete(tr.members, from)
	return nil
}

func (tr *tracker) Join(id string, topic int64) error {
	if id != tr.cur.ID {
		return fmt.Errorf("join of %s, but %s was added", id, tr.cur.ID)
	}
	tr.members[topic] = append(tr.members[topic], tr.cur)
	tr.topicOf[id] = topic
	return nil
}

func (tr *tracker) Move(ids []string, to int64) error {
	for _, id := range ids {
		from := tr.topicOf[id]
		i := slices.IndexFunc(tr.members[from], func(x Document) bool { return x.ID == id })
		if i < 0 {
			return fmt.Errorf("move of %s, not in topic %d", id, from)
		}
		tr.members[to] = append(tr.members[to], tr.members[from][i])
		tr.members[from] = slices.Delete(tr.members[from], i, i+1)
		tr.topicOf[id] = to
	}
	return nil
}

// topicMap is the least a caller keeps: each story's topic.
type topicMap map[string]int64

func (m topicMap) Merge(from, to int64) error {
	for id, t := range m {
		if t == from {
			m[id] = to
		}
	}
	return nil
}

func (m topicMap) Join(id string, topic int64) error { m[id] = topic; return nil }

func (m topicMap) Move(ids []string, to int64) error {
	for _, id := range ids {
		m[id] = to
	}
	return nil
}

// siblingFights is two storylines of one kind, interleaved: reports on
// Klitschko's defence against Pulev in Hamburg and on Povetkin's against
// Chagaev in Moscow, which share nearly all their vocabulary.
func siblingFights() []Document {
	var docs []Document
	for k := range 5 {
		for _, f := range []struct{ id, champ, opp, city string }{
			{"k", "Klitschko", "Pulev", "Hamburg"}, {"p", "Povetkin", "Chagaev", "Moscow"},
		} {
			title, text := boxing(f.champ, f.opp, f.city, k)
			docs = append(docs, Document{ID: fmt.Sprint(f.id, k), Title: title, Text: text,
				Time: t0.Add(time.Duration(len(docs)) * time.Hour)})
		}
	}
	return docs
}

// splitConfig lets the two fights mix: they are alike enough to join one
// topic, which is what splitting repairs.
func splitConfig() Config {
	cfg := DefaultConfig()
	cfg.HeadlineTerms, cfg.ArticleTerms = 2, 6 // hand-written articles are short
	return cfg
}

// TestSplitTwoStorylines: the two fights mix into one topic; with split
// checks answered, the topic is split, and every report ends with its own fight.
func TestSplitTwoStorylines(t *testing.T) {
	docs := siblingFights()
	mixed := New(splitConfig(), nil)
	var first Assignment
	for i, d := range docs {
		a := mixed.Add(d)
		if i == 0 {
			first = a
		}
		if a.TopicID != first.TopicID || a.Split != nil {
			t.Fatalf("without answering split checks %s went to topic %d (split %v): the fights no longer mix, the test exercises nothing", d.ID, a.TopicID, a.Split)
		}
	}

	c := New(splitConfig(), nil)
	tr := newTracker()
	for _, d := range docs {
		tr.follow(d, tr.answer(c, c.Add(d)))
	}
	if len(tr.splits) != 1 {
		t.Fatalf("%d splits, want 1", len(tr.splits))
	}
	for _, d := range docs {
		if same := tr.topicOf[d.ID] == tr.topicOf["k0"]; same != (d.ID[0] == 'k') {
			t.Errorf("story %s in topic %d, k0 in %d", d.ID, tr.topicOf[d.ID], tr.topicOf["k0"])
		}
	}
	sp := tr.splits[0]
	if sp.From.ID != first.TopicID || sp.To.ID <= sp.From.ID {
		t.Errorf("split from %d to %d, want from the mixed topic %d to a new one", sp.From.ID, sp.To.ID, first.TopicID)
	}
	for id, ms := range tr.members {
		ts, ok := c.Topic(id)
		if !ok || ts.Size != len(ms) {
			t.Errorf("topic %d: clusterer has size %d (open %v), %d stories tracked", id, ts.Size, ok, len(ms))
		}
	}
	// Each fight keeps its own name.
	for _, id := range []int64{tr.topicOf["k0"], tr.topicOf["p0"]} {
		ts, _ := c.Topic(id)
		t.Logf("topic %d: %q (%d stories)", id, ts.Label, ts.Size)
	}
}

// TestSplitRestart: with splits, a clusterer rebuilt from a saved state in
// the middle of the stream ends where an uninterrupted one does.
func TestSplitRestart(t *testing.T) {
	docs := siblingFights()
	run := func(restartAt int) (map[string]int64, State) {
		c := New(splitConfig(), nil)
		tr := newTracker()
		for i, d := range docs {
			if i == restartAt {
				st := jsonRoundTrip(c.Snapshot())
				c = New(splitConfig(), &st)
			}
			tr.follow(d, tr.answer(c, c.Add(d)))
		}
		return tr.topicOf, jsonRoundTrip(c.Snapshot())
	}
	want, wantState := run(-1)
	for _, at := range []int{3, 6, 7} {
		got, gotState := run(at)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotState, wantState) {
			t.Errorf("restart before story %d: topics %v, want %v", at, got, want)
		}
	}
}

// TestSplitNeedsConsistentSource: a source that does not know the topic
// as the clusterer does (a lost story, storage trouble) means no split,
// never a wrong one.
func TestSplitNeedsConsistentSource(t *testing.T) {
	c := New(splitConfig(), nil)
	tr := newTracker()
	for _, d := range siblingFights() {
		a := c.Add(d)
		if a.SplitCheck != 0 {
			ms := tr.members[a.SplitCheck]
			a = c.CheckSplit(slices.Clone(ms[1:]))
		}
		tr.follow(d, a)
		if a.Split != nil {
			t.Fatalf("split with inconsistent members at %s", d.ID)
		}
	}
}

// TestSplitStaysSplit: a small part split off a large topic is not absorbed
// back by it when the large one looks for twins.
func TestSplitStaysSplit(t *testing.T) {
	var docs []Document
	add := func(id, champ, opp, city string, k int) {
		title, text := boxing(champ, opp, city, k)
		docs = append(docs, Document{ID: id, Title: title, Text: text, Time: t0.Add(time.Duration(len(docs)) * time.Hour)})
	}
	for k := range 10 {
		add(fmt.Sprint("k", k), "Klitschko", "Pulev", "Hamburg", k)
	}
	for k := range 3 {
		add(fmt.Sprint("p", k), "Povetkin", "Chagaev", "Moscow", k)
	}
	for k := 10; k < 20; k++ {
		add(fmt.Sprint("k", k), "Klitschko", "Pulev", "Hamburg", k)
	}
	c := New(splitConfig(), nil)
	tr := newTracker()
	for _, d := range docs {
		tr.follow(d, tr.answer(c, c.Add(d)))
	}
	if len(tr.splits) == 0 {
		t.Fatal("no split: the test exercises nothing")
	}
	for _, d := range docs {
		if same := tr.topicOf[d.ID] == tr.topicOf["k0"]; same != (d.ID[0] == 'k') {
			t.Errorf("story %s in topic %d, k0 in %d: the split was undone", d.ID, tr.topicOf[d.ID], tr.topicOf["k0"])
		}
	}
}

// TestNamesClash: two parts of a topic are about different actors when the
// heaviest name of each is a minor word of the other; parts that share
// their actors (a proposal and its rejection) or have no names are not.
func TestNamesClash(t *testing.T) {
	vocab := map[string]int{"klitschko": 0, "povetkin": 1, "france": 2, "kremlin": 3, "title": 4, "defend": 5}
	names := &docVector{
		terms: []string{"france", "klitschko", "kremlin", "povetkin"},
		name:  []bool{true, true, true, true},
	}
	common := &docVector{terms: []string{"defend", "title"}, name: []bool{false, false}}
	part := func(w ...float64) dense {
		d := dense{w: w}
		for _, x := range w {
			d.norm += x * x
		}
		d.norm = math.Sqrt(d.norm)
		return d
	}
	for _, tc := range []struct {
		name string
		a, b dense
		raw  []*docVector
		want bool
	}{
		{"two champions", part(3, 0.2, 0, 0, 2, 2), part(0.2, 3, 0, 0, 2, 2), []*docVector{names, common}, true},
		{"one champion", part(3, 0, 0, 0, 2, 2), part(2.5, 0.5, 0, 0, 2, 2), []*docVector{names, common}, false},
		{"proposal and rejection", part(0, 0, 3, 0.5, 2, 2), part(0, 0, 2, 3, 2, 2), []*docVector{names, common}, false},
		{"the other's name is half as heavy", part(3, 1.5, 0, 0, 2, 2), part(1.5, 3, 0, 0, 2, 2), []*docVector{names, common}, false},
		{"no names", part(3, 0.2, 0, 0, 2, 2), part(0.2, 3, 0, 0, 2, 2), []*docVector{common}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := namesClash(tc.raw, vocab, tc.a, tc.b); got != tc.want {
				t.Errorf("namesClash = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSplitByNames: a topic whose parts are too alike for SplitFactor's bar
// is split below NameSplitFactor's when the parts are about different
// actors (two champions' title defences), and kept whole when they share
// their actors (one champion's defence reported from two cities).
func TestSplitByNames(t *testing.T) {
	run := func(docs []Document, nameSplit float64) int {
		t.Helper()
		cfg := splitConfig()
		cfg.SplitFactor = 0.01 // the plain bar never splits
		cfg.NameSplitFactor = -1
		c := New(cfg, nil)
		tr := newTracker()
		last := len(docs) - 1
		for _, d := range docs[:last] {
			tr.follow(d, tr.answer(c, c.Add(d)))
		}
		if len(c.topics) != 1 || len(tr.splits) != 0 {
			t.Fatalf("%d topics, %d splits before the last story: the stories no longer mix", len(c.topics), len(tr.splits))
		}
		// A story joined unlike the rest: the topic is due a check.
		for _, tp := range c.topics {
			tp.suspect = true
		}
		c.cfg.NameSplitFactor = nameSplit
		tr.follow(docs[last], tr.answer(c, c.Add(docs[last])))
		return len(tr.splits)
	}
	fights := siblingFights()
	if n := run(fights, 3); n != 1 {
		t.Errorf("two champions: %d splits, want 1", n)
	}
	if n := run(fights, -1); n != 0 {
		t.Errorf("two champions without NameSplitFactor: %d splits, want 0", n)
	}
	// A proposal and its rejection: the second side adds the Kremlin, but
	// the first side's main names are the second's too.
	var sides []Document
	for k := range 5 {
		for _, side := range []string{"a", "b"} {
			title, text := proposal(side == "b", k)
			sides = append(sides, Document{ID: fmt.Sprint(side, k), Title: title, Text: text,
				Time: t0.Add(time.Duration(len(sides)) * time.Hour)})
		}
	}
	if n := run(sides, 3); n != 0 {
		t.Errorf("a proposal and its rejection: %d splits, want 0", n)
	}
}

// proposal is the k-th report of European capitals' counter-proposal to a
// peace plan, or of the Kremlin's rejection of it.
func proposal(rejection bool, k int) (string, string) {
	if rejection {
		return "Kremlin rejects counter-proposal from France, Germany and Britain", strings.Join([]string{
			"The Kremlin rejected the counter-proposal drafted by France, Germany and Britain on Tuesday.",
			fmt.Sprintf("A spokesman in Moscow said the amendments from France, Germany and Britain offered nothing in %d of the points.", 10+k),
			"Officials in Paris, Berlin and London said they would not withdraw the counter-proposal.",
			"The rejection leaves the negotiators with the original draft of the peace plan.",
		}, "\n")
	}
	return "France, Germany and Britain present counter-proposal to peace plan", strings.Join([]string{
		"France, Germany and Britain presented a counter-proposal to the peace plan on Monday.",
		fmt.Sprintf("The document from France, Germany and Britain rewrites %d of the points on security guarantees.", 10+k),
		"Diplomats in Paris, Berlin and London said the counter-proposal keeps the plan's framework.",
		"The amendments will be sent to the negotiators before the next round of talks.",
	}, "\n")
}

// TestVectorCache: a cached vector serves only the story text it was made
// from, holds what a split check reads and not the spellings, a story
// looked up again and again survives the cache filling up, and the cache
// stays bounded.
func TestVectorCache(t *testing.T) {
	c := New(DefaultConfig(), nil)
	d := Document{ID: "1", Title: "Geneva talks resume", Text: "Delegates met.", Link: "https://a.example/geneva-talks"}
	v := c.memberVector(d)
	if again := c.memberVector(d); again != v {
		t.Error("the same story was analyzed twice")
	}
	if v.forms != nil || len(v.terms) == 0 || len(v.u) != len(v.terms) || len(v.name) != len(v.terms) {
		t.Errorf("cached vector: %d terms, %d weights, %d name flags, spellings %v; want what a split check reads and no spellings",
			len(v.terms), len(v.u), len(v.name), v.forms != nil)
	}
	edited := d
	edited.Title = "Geneva talks collapse"
	if w := c.memberVector(edited); w == v || !slices.Contains(w.terms, "collaps") {
		t.Errorf("an edited story got its old vector: %v", w.terms)
	}
	w := c.memberVector(edited)
	for i := range 3 * maxVectorCache {
		c.memberVector(Document{ID: fmt.Sprint("x", i), Title: "Word"})
		if i%100 == 0 && c.memberVector(edited) != w {
			t.Fatalf("a story in use was analyzed again after %d others", i)
		}
	}
	if n := len(c.memberVecs.cur) + len(c.memberVecs.prev); n > 2*maxVectorCache {
		t.Errorf("cache holds %d vectors, limit %d", n, 2*maxVectorCache)
	}
}
