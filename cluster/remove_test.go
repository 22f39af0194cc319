package cluster

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// corpusDocs returns the small corpus as timed documents, and which of them
// a removed outlet published (the first story of each storyline).
func corpusDocs() (docs []Document, removed map[string]bool) {
	removed = map[string]bool{"a1": true, "b1": true, "c1": true}
	for i, d := range corpus {
		docs = append(docs, Document{ID: d.id, Title: d.title, Text: d.text, Time: t0.Add(time.Duration(i) * time.Hour)})
	}
	return docs, removed
}

// TestForgetUndoesAdd: forgetting stories leaves the document frequencies
// and the document count of a stream that never had them.
func TestForgetUndoesAdd(t *testing.T) {
	docs, removed := corpusDocs()
	c, without := New(DefaultConfig(), nil), New(DefaultConfig(), nil)
	for _, d := range docs {
		c.Add(d)
		if !removed[d.ID] {
			without.Add(d)
		}
	}
	var lowered []string
	for _, d := range docs {
		if removed[d.ID] {
			lowered = append(lowered, c.Forget(d)...)
		}
	}
	c.settle()
	checkInvariants(t, c)
	got, want := c.Snapshot(), without.Snapshot()
	if got.Docs != want.Docs || !reflect.DeepEqual(got.DocFreq, want.DocFreq) {
		t.Errorf("after Forget: %d docs, frequencies %v; want %d, %v", got.Docs, got.DocFreq, want.Docs, want.DocFreq)
	}
	if !slices.Contains(lowered, "reid") || !slices.Contains(lowered, "geneva") {
		t.Errorf("Forget reported the terms %v, want the removed stories' terms", lowered)
	}
	// A story that was never added changes nothing.
	c.Forget(Document{Title: "Zanzibar zebras zigzag"})
	if _, ok := c.Snapshot().DocFreq["zanzibar"]; ok {
		t.Error("Forget of an unknown story created a term")
	}
}

// clusterAll adds docs to a new default clusterer and returns it with each
// story's topic.
func clusterAll(docs []Document) (*Clusterer, map[string]int64) {
	c := New(DefaultConfig(), nil)
	topicOf := map[string]int64{}
	for _, d := range docs {
		topicOf[d.ID] = c.Add(d).TopicID
	}
	return c, topicOf
}

// TestRebuildDropsRemovedStories: rebuilt storylines hold exactly the
// remaining stories, keep their IDs, show none of the removed stories'
// headlines or words, and survive a restart like any other state.
func TestRebuildDropsRemovedStories(t *testing.T) {
	docs, removed := corpusDocs()
	c, topicOf := clusterAll(docs)
	members := map[int64][]Document{}
	for _, d := range docs {
		if removed[d.ID] {
			c.Forget(d)
		} else {
			members[topicOf[d.ID]] = append(members[topicOf[d.ID]], d)
		}
	}
	for id, ms := range members {
		before, _ := c.Topic(id)
		ts, ok := c.Rebuild(id, ms)
		if !ok || ts.ID != id || ts.Size != len(ms) || !ts.First.Equal(ms[0].Time) || !ts.Last.Equal(ms[len(ms)-1].Time) {
			t.Errorf("topic %d rebuilt as %+v (ok %v), want ID %d, %d stories from %v to %v", id, ts, ok, id, len(ms), ms[0].Time, ms[len(ms)-1].Time)
		}
		if now, _ := c.Topic(id); !reflect.DeepEqual(now, ts) {
			t.Errorf("topic %d: the clusterer holds another state than Rebuild returned", id)
		}
		for _, d := range docs {
			if removed[d.ID] && ts.HeadlineID == d.ID {
				t.Errorf("topic %d keeps the removed story %s as its headline", id, d.ID)
			}
		}
		if ts.Size >= before.Size {
			t.Errorf("topic %d: %d stories before, %d after", id, before.Size, ts.Size)
		}
		checkInvariants(t, c)
	}
	// "entered" (c1) and "checks" (a1) occur in removed stories only.
	for _, ts := range c.Topics() {
		for _, tt := range ts.Terms {
			if tt.Term == "enter" || tt.Term == "check" {
				t.Errorf("topic %d still has the removed stories' term %q", ts.ID, tt.Term)
			}
		}
	}
	// The same stories rebuilt twice give the same state: nothing of the
	// first rebuild leaks into the second.
	for id, ms := range members {
		a, _ := c.Topic(id)
		b, _ := c.Rebuild(id, ms)
		if !reflect.DeepEqual(a.Terms, b.Terms) || a.Size != b.Size {
			t.Errorf("topic %d: second rebuild differs from the first", id)
		}
	}
	st := jsonRoundTrip(c.Snapshot())
	if again := New(DefaultConfig(), &st); !reflect.DeepEqual(jsonRoundTrip(again.Snapshot()), st) {
		t.Error("state after rebuilds does not survive a restart")
	}
	// New stories still find the rebuilt storylines.
	a := c.Add(Document{ID: "a4", Title: "Tara Reid thanks fans after Malibu rehab", Time: t0.Add(10 * time.Hour)})
	if a.TopicID != topicOf["a2"] {
		t.Errorf("a new Reid story went to topic %d, want the rebuilt %d", a.TopicID, topicOf["a2"])
	}
}

// TestRebuildEmptyAndClosed: a topic left with no stories is gone; a
// closed topic is rebuilt without being reopened.
func TestRebuildEmptyAndClosed(t *testing.T) {
	docs, _ := corpusDocs()
	c, topicOf := clusterAll(docs)
	geneva := topicOf["b1"]
	if _, ok := c.Rebuild(geneva, nil); ok {
		t.Error("Rebuild with no stories reported a topic")
	}
	if _, open := c.Topic(geneva); open {
		t.Error("the emptied topic is still open")
	}
	// Move the clock past the window: every topic closes.
	late := t0.Add(DefaultConfig().Window + 24*time.Hour)
	c.Add(Document{ID: "x", Title: "Volcano erupts in Iceland", Time: late})
	reid := topicOf["a1"]
	if _, open := c.Topic(reid); open {
		t.Fatal("topic still open after the window")
	}
	var ms []Document
	for _, d := range docs {
		if topicOf[d.ID] == reid && d.ID != "a1" {
			ms = append(ms, d)
		}
	}
	ts, ok := c.Rebuild(reid, ms)
	if !ok || ts.Size != len(ms) || !strings.Contains(ts.Label, "Reid") {
		t.Errorf("closed topic rebuilt as %+v (ok %v)", ts, ok)
	}
	if _, open := c.Topic(reid); open {
		t.Error("Rebuild reopened a closed topic")
	}
	a := c.Add(Document{ID: "y", Title: "Tara Reid leaves Malibu rehab", Time: late.Add(time.Hour)})
	if a.TopicID == reid {
		t.Error("a new story joined a closed topic after its rebuild")
	}
}

// TestRebuildRetiredTopic: late stories form a storyline of their own
// time, which is closed; rebuilt, it stays closed and resident, so a later
// late story of that time still joins it.
func TestRebuildRetiredTopic(t *testing.T) {
	c := New(DefaultConfig(), nil)
	now := t0.Add(20 * 24 * time.Hour)
	c.Add(Document{ID: "x", Title: "Volcano erupts in Iceland", Time: now})
	var ms []Document
	var id int64
	for i, title := range []string{"Tara Reid checks into rehab", "Tara Reid in Malibu rehab", "Tara Reid leaves Malibu rehab"} {
		d := Document{ID: fmt.Sprint("r", i), Title: title, Time: t0.Add(time.Duration(i) * time.Hour)}
		a := c.Add(d)
		if i > 0 && a.TopicID != id {
			t.Fatalf("late story %d opened topic %d instead of joining %d", i, a.TopicID, id)
		}
		id = a.TopicID
		ms = append(ms, d)
	}
	if _, open := c.Topic(id); open {
		t.Fatal("late stories reopened the window for their storyline")
	}
	ts, ok := c.Rebuild(id, ms[1:])
	if !ok || ts.Size != 2 || !ts.First.Equal(t0.Add(time.Hour)) || !ts.Last.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("rebuilt as %+v, want 2 stories at their own times", ts)
	}
	if _, open := c.Topic(id); open {
		t.Error("Rebuild opened a closed topic")
	}
	a := c.Add(Document{ID: "y", Title: "Tara Reid back in Malibu rehab", Time: t0.Add(3 * time.Hour)})
	if a.TopicID != id {
		t.Errorf("late story after the rebuild opened topic %d instead of joining %d", a.TopicID, id)
	}
}
