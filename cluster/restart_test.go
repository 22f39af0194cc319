package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// checkInvariants checks the clusterer's internal bookkeeping: slots,
// heaps, postings (back-pointers, copies of weight and name flag, open
// topics in post and retired ones in old) and the centroid sums of the
// topics whose sums are kept up to date.
func checkInvariants(t *testing.T, c *Clusterer) {
	t.Helper()
	for id, tp := range c.topics {
		if c.slots[tp.slot] != tp {
			t.Fatalf("topic %d: slot %d holds another topic", id, tp.slot)
		}
		h := c.byLast
		if tp.retired {
			h = c.retired.topicHeap
		}
		if tp.heapIdx < 0 || tp.heapIdx >= len(h) || h[tp.heapIdx] != tp {
			t.Fatalf("topic %d (retired %v): heap index %d wrong", id, tp.retired, tp.heapIdx)
		}
		for i, tt := range tp.terms {
			list := *tp.postings(tt)
			if int(tt.pos) >= len(list) || list[tt.pos].slot != tp.slot {
				t.Fatalf("topic %d term %q: posting index %d wrong", id, tt.stat.term, tt.pos)
			}
			if p := list[tt.pos]; p.weight != tt.weight || p.slot != tp.slot || p.name() != tt.isName() || p.term() != i {
				t.Fatalf("topic %d term %q: posting %+v, term weight %v", id, tt.stat.term, p, tt.weight)
			}
		}
		if !c.stale && (!tp.retired || c.summedAt[tp.slot] == c.statGen+1) {
			var want normSums
			for _, tt := range tp.terms {
				want.add(tt.weight, tt.stat.logDF, 1)
			}
			if c.sums[tp.slot] != want {
				t.Fatalf("topic %d: sums %v, from its terms %v", id, c.sums[tp.slot], want)
			}
		}
	}
	for _, s := range c.stats {
		for i, p := range s.post {
			if tp := c.slots[p.slot]; tp == nil || tp.retired || p.term() >= len(tp.terms) || tp.terms[p.term()].stat != s || tp.terms[p.term()].pos != int32(i) {
				t.Fatalf("term %q: stale posting in the open list", s.term)
			}
		}
		for i, p := range s.old {
			if tp := c.slots[p.slot]; tp == nil || !tp.retired || p.term() >= len(tp.terms) || tp.terms[p.term()].stat != s || tp.terms[p.term()].pos != int32(i) {
				t.Fatalf("term %q: stale posting in the retired list", s.term)
			}
		}
	}
	if len(c.byLast)+len(c.retired.topicHeap) != len(c.topics) {
		t.Fatalf("heaps hold %d + %d topics, %d resident", len(c.byLast), len(c.retired.topicHeap), len(c.topics))
	}
}

// lateMix is the synthetic stream of benchDoc, a story a minute, in which
// about one story in lateEvery is a late copy of an earlier one's kind,
// at that earlier time.
func lateMix(seed uint64, n, lateEvery int) []Document {
	r := rand.New(rand.NewPCG(seed, 9))
	docs := make([]Document, n)
	for i := range docs {
		d := benchDoc(r, i)
		d.Time = t0.Add(time.Duration(i) * time.Minute)
		if lateEvery > 0 && i > 100 && r.IntN(lateEvery) == 0 {
			j := r.IntN(i)
			d = benchDoc(r, j)
			d.ID = fmt.Sprint("late", i)
			d.Time = t0.Add(time.Duration(j) * time.Minute)
		}
		docs[i] = d
	}
	return docs
}

// run is a clusterer with what a store keeps of it.
type run struct {
	c  *Clusterer
	tr *tracker
	fs *fakeStore
}

func newRun(cfg Config, st *State, tr *tracker, fs *fakeStore) *run {
	return &run{New(cfg, st), tr, fs}
}

// TestRestartEqualityLateStories: with late stories, merges, splits,
// retirement and eviction (a short window and History), a clusterer
// restarted from what a store saved every 37 stories assigns every story
// as one uninterrupted run does, and its bookkeeping stays consistent. (A
// merged topic that did not carry over the other's Kept once made the two
// differ at the 3,848th story of one seed.)
func TestRestartEqualityLateStories(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Window, cfg.History = 6*time.Hour, 12*time.Hour
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			fresh := func() *tracker { return &tracker{members: map[int64][]Document{}, topicOf: map[string]int64{}} }
			live := newRun(cfg, nil, fresh(), newFakeStore())
			rest := newRun(cfg, nil, fresh(), newFakeStore())
			for i, d := range lateMix(seed, 4000, 5) {
				a, b := live.tr.answer(live.c, live.c.Add(d)), rest.tr.answer(rest.c, rest.c.Add(d))
				if a.TopicID != b.TopicID || a.New != b.New || !slices.Equal(a.Merged, b.Merged) || (a.Split == nil) != (b.Split == nil) {
					t.Fatalf("story %d (%s): one run gave topic %d (new %v, merged %v), the restarted one %d (new %v, merged %v)",
						i, d.ID, a.TopicID, a.New, a.Merged, b.TopicID, b.New, b.Merged)
				}
				live.tr.follow(d, a)
				rest.tr.follow(d, b)
				rest.fs.save(b)
				if i%37 == 36 {
					rest.fs.saveTopics(changed(rest.c))
					st := rest.fs.load()
					rest = newRun(cfg, &st, rest.tr, rest.fs)
					checkInvariants(t, rest.c)
				}
				if i%97 == 0 {
					checkInvariants(t, live.c)
				}
			}
		})
	}
}

// TestRebuildKeepsKept: rebuilding a closed topic (an edit, a removed feed)
// is not a story joining it: it does not bring back into memory a topic
// that left it, nor keep a retired one longer, so that a restart finds
// the same topics resident as the live run.
func TestRebuildKeepsKept(t *testing.T) {
	g := []Document{
		{ID: "g0", Title: "Geneva peace talks open with delegations from Kyiv and Moscow", Time: day(0)},
		{ID: "g1", Title: "Geneva peace talks: Kyiv and Moscow delegations meet", Time: day(0.2)},
	}
	t.Run("retired", func(t *testing.T) {
		c, then, _ := lateStream(t)
		before := c.topics[then].kept
		ts, _ := c.Rebuild(then, g[:1])
		if !ts.Kept.Equal(before) {
			t.Errorf("rebuilt retired topic: Kept %v, was %v", ts.Kept, before)
		}
	})
	t.Run("evicted", func(t *testing.T) {
		cfg := DefaultConfig()
		c := New(cfg, nil)
		then := c.Add(g[0]).TopicID
		c.Add(g[1])
		for i := 1; i <= 30; i++ {
			c.Add(Document{ID: fmt.Sprint("x", i), Title: fmt.Sprintf("Filler%d event number%d in town%d", i, i, i), Time: day(float64(i))})
		}
		changed(c)
		if _, ok := c.topics[then]; ok {
			t.Fatal("the storyline of day 0 is still in memory on day 30")
		}
		ts, ok := c.Rebuild(then, g)
		if !ok || !ts.Kept.Equal(day(0.2)) {
			t.Fatalf("rebuilt evicted topic: %v, Kept %v; want Kept %v", ok, ts.Kept, day(0.2))
		}
		if _, ok := c.topics[then]; ok {
			t.Error("the rebuild brought the topic back into memory")
		}
	})
}

// TestRebuildIntoWindow: a closed topic rebuilt with a story now inside the
// window (an old article republished with a new date) is open, as a
// restart would load it.
func TestRebuildIntoWindow(t *testing.T) {
	c, then, _ := lateStream(t)
	ts, _ := c.Rebuild(then, []Document{
		{ID: "g0", Title: "Geneva peace talks open with delegations from Kyiv and Moscow", Time: day(0)},
		{ID: "g1", Title: "Geneva peace talks: Kyiv and Moscow delegations meet again", Time: day(12)},
	})
	changed(c)
	_, live := c.Topic(then)
	st := c.Snapshot()
	_, restarted := New(DefaultConfig(), &st).Topic(then)
	if !live || !restarted {
		t.Errorf("topic rebuilt with a story at %v (clock %v): open %v, after a restart %v; want open", ts.Last, c.clock, live, restarted)
	}
	checkInvariants(t, c)
}

// TestRestartWithSmallerCap: a State saved with a larger MaxTopicTerms
// loads over the cap, and the joins and merges that prune it back keep
// the posting lists in step with the centroids.
func TestRestartWithSmallerCap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Window, cfg.History = 6*time.Hour, 12*time.Hour
	cfg.MaxTopicTerms = 300
	docs := lateMix(3, 1500, 5)
	c := New(cfg, nil)
	for _, d := range docs[:1000] {
		c.Add(d)
	}
	st := jsonRoundTrip(c.Snapshot())
	cfg.MaxTopicTerms = 20
	c = New(cfg, &st)
	checkInvariants(t, c)
	for i, d := range docs[1000:] {
		c.Add(d)
		if i%25 == 0 {
			checkInvariants(t, c)
		}
	}
	checkInvariants(t, c)
}
