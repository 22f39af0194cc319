package cluster

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// day returns the time d days (fractions allowed) after t0.
func day(d float64) time.Time { return t0.Add(time.Duration(d * float64(24*time.Hour))) }

// lateStream clusters a Geneva storyline on day 0, then one unrelated story
// a day up to day 12, where a second Geneva storyline starts: the same
// words, weeks later (within Config.History of the window). It returns the clusterer and the two topics.
func lateStream(t *testing.T) (c *Clusterer, then, today int64) {
	t.Helper()
	c = New(DefaultConfig(), nil)
	then = c.Add(Document{ID: "g0", Title: "Geneva peace talks open with delegations from Kyiv and Moscow", Time: day(0)}).TopicID
	if a := c.Add(Document{ID: "g1", Title: "Geneva peace talks: Kyiv and Moscow delegations meet", Time: day(0.2)}); a.TopicID != then {
		t.Fatalf("second story of day 0 opened topic %d, not %d", a.TopicID, then)
	}
	for i := 1; i <= 12; i++ {
		c.Add(Document{ID: fmt.Sprint("x", i), Title: fmt.Sprintf("Filler%d event number%d in town%d", i, i, i), Time: day(float64(i))})
	}
	today = c.Add(Document{ID: "g20", Title: "Geneva peace talks resume with delegations from Kyiv and Moscow", Time: day(12.1)}).TopicID
	if today == then {
		t.Fatalf("a story 12 days later joined the closed storyline %d", then)
	}
	if _, open := c.Topic(then); open {
		t.Fatalf("storyline of day 0 still open on day 12")
	}
	return c, then, today
}

// TestLateStoryJoinsItsOwnTime: a story published weeks before the newest
// one is clustered at its own time: it joins the storyline of that time
// (closed now) and neither reopens it nor joins today's storyline of the
// same words.
func TestLateStoryJoinsItsOwnTime(t *testing.T) {
	c, then, today := lateStream(t)
	before, _ := c.Topic(today)
	a := c.Add(Document{ID: "late", Title: "Geneva peace talks: Kyiv and Moscow delegations trade drafts", Time: day(0.5)})
	if a.TopicID != then {
		t.Fatalf("late story went to topic %d (new %v), want its own time's storyline %d (today's is %d)", a.TopicID, a.New, then, today)
	}
	if _, open := c.Topic(then); open {
		t.Error("the late story reopened its storyline")
	}
	var got TopicState
	for _, ts := range changed(c) {
		if ts.ID == then {
			got = ts
		}
	}
	if got.Size != 3 || !got.Last.Equal(day(0.5)) || !got.First.Equal(day(0)) {
		t.Errorf("changed storyline of day 0 = size %d, %v..%v; want 3 stories, day 0 to day 0.5", got.Size, got.First, got.Last)
	}
	if after, _ := c.Topic(today); after.Size != before.Size {
		t.Errorf("today's storyline grew from %d to %d stories", before.Size, after.Size)
	}
	// The next story in time order meets today's storyline, not the old one.
	if a := c.Add(Document{ID: "g21", Title: "Geneva peace talks: Kyiv and Moscow delegations adjourn", Time: day(12.2)}); a.TopicID != today {
		t.Errorf("story of day 12 went to topic %d, want today's %d", a.TopicID, today)
	}
}

// TestLateStoryJoinsARetiredLongStoryline: a retired topic keeps only its
// retiredTerms heaviest terms in memory, and a late story still finds it
// by them.
func TestLateStoryJoinsARetiredLongStoryline(t *testing.T) {
	c := New(DefaultConfig(), nil)
	bodies := []string{
		"Delegations from Kyiv and Moscow met in Geneva on Tuesday under Swiss mediation. The negotiators discussed a ceasefire along the front line, the exchange of prisoners, grain shipments through the Black Sea ports and guarantees for the Zaporizhzhia nuclear plant.",
		"Swiss diplomats hosted the first round at the Palais des Nations. Observers from Turkey, the Vatican and the United Nations attended; humanitarian corridors, sanctions relief, frozen assets and the return of deported children were on the agenda, officials said.",
		"The Geneva round ended late at night with a joint statement promising working groups on energy infrastructure, demining, reconstruction finance and monitoring by international inspectors, according to spokespeople for both delegations.",
	}
	var then int64
	for i, b := range bodies {
		a := c.Add(Document{ID: fmt.Sprint("g", i), Title: "Geneva peace talks between Kyiv and Moscow delegations", Text: b, Time: day(float64(i) / 10)})
		if i == 0 {
			then = a.TopicID
		} else if a.TopicID != then {
			t.Fatalf("story %d of day 0 opened topic %d, not %d", i, a.TopicID, then)
		}
	}
	if ts, _ := c.Topic(then); len(ts.Terms) <= retiredTerms {
		t.Fatalf("the storyline holds %d terms; the test needs more than %d", len(ts.Terms), retiredTerms)
	}
	for i := 1; i <= 8; i++ {
		c.Add(Document{ID: fmt.Sprint("x", i), Title: fmt.Sprintf("Filler%d event number%d in town%d", i, i, i), Time: day(float64(i))})
	}
	var retired *TopicState
	for _, ts := range c.Topics() {
		if ts.ID == then {
			retired = &ts
		}
	}
	if retired == nil {
		t.Fatal("the storyline of day 0 left memory before History ended")
	}
	if _, open := c.Topic(then); open || len(retired.Terms) > retiredTerms {
		t.Fatalf("storyline of day 0: open %v, %d terms resident; want closed, at most %d", open, len(retired.Terms), retiredTerms)
	}
	a := c.Add(Document{ID: "late", Title: "Kyiv and Moscow delegations trade drafts at the Geneva talks",
		Text: "Negotiators discussed prisoners and the ceasefire, then argued over pipelines, fisheries, visas, railways, pensions, monuments, textbooks, broadcasters, orchestras, vineyards and lighthouses.", Time: day(0.5)})
	if a.TopicID != then {
		t.Fatalf("late story went to topic %d (new %v), want its own time's storyline %d", a.TopicID, a.New, then)
	}
	// The late story's new words do not grow the retired centroid past the
	// cut, so that a restart, which cuts it again, continues identically.
	for _, ts := range c.Topics() {
		if ts.ID == then && len(ts.Terms) > retiredTerms {
			t.Errorf("after the late story the storyline holds %d terms, want at most %d", len(ts.Terms), retiredTerms)
		}
	}
	checkInvariants(t, c)
	st := jsonRoundTrip(c.Snapshot())
	if again := New(DefaultConfig(), &st); !reflect.DeepEqual(jsonRoundTrip(again.Snapshot()), st) {
		t.Error("a Clusterer restored from the snapshot differs from the one that made it")
	}
}

// TestLateStoryWithoutItsTimesStoryline: a late story whose time had no
// storyline of its words opens one at its own time, closed, rather than
// joining today's or an older one.
func TestLateStoryWithoutItsTimesStoryline(t *testing.T) {
	c, then, today := lateStream(t)
	a := c.Add(Document{ID: "late", Title: "Geneva peace talks: Kyiv and Moscow delegations trade drafts", Time: day(6)})
	if !a.New || a.TopicID == then || a.TopicID == today {
		t.Fatalf("late story of day 6 went to topic %d (new %v); day 0's is %d, today's %d", a.TopicID, a.New, then, today)
	}
	next := c.Add(Document{ID: "g21", Title: "Geneva peace talks: Kyiv and Moscow delegations adjourn", Time: day(12.2)})
	if next.TopicID != today {
		t.Errorf("story of day 12 went to topic %d, want today's %d", next.TopicID, today)
	}
	if _, open := c.Topic(a.TopicID); open {
		t.Error("the late story's storyline is open")
	}
	ts := changed(c)
	for _, x := range ts {
		if x.ID == a.TopicID && (!x.First.Equal(day(6)) || !x.Last.Equal(day(6))) {
			t.Errorf("late story's storyline filed at %v..%v, want day 6", x.First, x.Last)
		}
	}
}

// TestOpenSetIsTheWindow: stories in time order over weeks keep only the
// window's topics open, and those out of History leave memory.
func TestOpenSetIsTheWindow(t *testing.T) {
	cfg := DefaultConfig()
	c := New(cfg, nil)
	for i := range 40 {
		c.Add(Document{ID: fmt.Sprint(i), Title: fmt.Sprintf("Distinct%d thing%d happened", i, i), Time: day(float64(i))})
	}
	open, resident := 0, len(c.topics)
	for _, tp := range c.topics {
		if !tp.retired {
			open++
		}
	}
	// Days 36-39 are inside the 72 h window of day 39; days 22-35 are
	// within History (14 days) of it.
	if open != 4 || resident != 18 {
		t.Errorf("open %d, resident %d topics; want 4 and 18", open, resident)
	}
}
