package cluster

import (
	"container/heap"
	"time"
)

// Stories leave the corpus when their feed is unsubscribed. Forget and
// Rebuild undo what Add did for them, so that storylines do not keep the
// names, headlines and centroids of stories that no longer exist, and the
// document frequencies count only stories that do.

// Forget takes a story that was added earlier out of the document
// frequencies and the document count, and returns the terms whose count it
// lowered (subtract one from each in a stored copy of the statistics). The
// story is analyzed again, so Document must carry what it carried when it
// was added; a term never counted is left alone (for example one the
// analyzer of an older version did not produce). Its topic is fixed by
// Rebuild.
func (c *Clusterer) Forget(d Document) []string {
	c.endSplitCheck()
	vec := c.analyzeDoc(d)
	var out []string
	for _, term := range vec.terms {
		if s := c.stats[term]; s != nil {
			if s.df > 0 {
				s.df--
				out = append(out, term)
			}
			continue
		}
		switch df := c.cold[term]; {
		case df > 1:
			c.cold[term] = df - 1
			out = append(out, term)
		case df == 1:
			delete(c.cold, term)
			out = append(out, term)
		}
	}
	if c.docs > 0 {
		c.setDocs(c.docs - 1)
	}
	c.stale = true
	return out
}

// Count adds a story's terms to the document frequencies and the story to
// the document count, without assigning it to a topic. With Forget it
// follows an edited story: Forget the old version, Count the new one; the
// story's topic keeps the old words until it is rebuilt. It returns the
// terms counted.
func (c *Clusterer) Count(d Document) []string {
	c.endSplitCheck()
	vec := c.analyzeDoc(d)
	for _, term := range vec.terms {
		c.stat(term).df++
	}
	c.setDocs(c.docs + 1)
	c.stale = true
	return vec.terms
}

// Rebuild recomputes topic id from the stories that remain in it, given in
// time order: centroid, size, first and last time, representative
// headline and label come out as if only these stories had joined it. An
// open topic is replaced in place (it keeps its ID). A closed one is open,
// retired or out of memory afterwards as a restart would find it from its
// new state: open when a story now falls inside the window, resident while
// a story joined it less than History out of the window (a rebuild is not
// a story joining: Kept stays), else closed. Its new state is returned for
// the caller to store. With no stories left the topic is closed and ok is
// false: delete it.
func (c *Clusterer) Rebuild(id int64, members []Document) (ts TopicState, ok bool) {
	c.settle()
	old := c.topics[id]
	open := old != nil && !old.retired
	var kept time.Time
	if old != nil {
		kept = old.kept
		c.close(old)
	}
	if len(members) == 0 {
		return TopicState{}, false
	}
	tp := c.build(id, members, open)
	if !open {
		tp.kept = maxTime(kept, tp.last)
	}
	limit := c.clock.Add(-c.cfg.Window)
	switch {
	case open || !tp.last.Before(limit):
		c.touch(tp)
	case !tp.kept.Before(limit.Add(-c.cfg.History)):
		c.retire(tp)
		c.touch(tp)
	default:
		c.close(tp)
	}
	return tp.state(), true
}

// build opens a topic with the given ID made of the given stories, as if
// they had joined it in that order under the current statistics. For a
// live topic (one that stays open), story times are taken as Add takes
// them: a story later than the clock moves it, so the clock stays what a
// restart would load.
func (c *Clusterer) build(id int64, members []Document, live bool) *topic {
	tp := &topic{id: id}
	// Opened first, so that join's bookkeeping (postings, the expiry heap)
	// applies.
	c.open(tp)
	for i, d := range members {
		v := c.analyzeDoc(d) // with its spellings, which the cache leaves out
		vec := &v
		stats := make([]*termStat, len(vec.terms))
		for k, term := range vec.terms {
			stats[k] = c.stat(term)
		}
		_, _, neff := c.weigh(vec, stats)
		t := d.Time
		if live {
			t, _ = c.storyTime(t)
		} else if t.IsZero() {
			t = c.clock
		}
		if i == 0 {
			tp.first, tp.last = t, t
			heap.Fix(&c.byLast, tp.heapIdx)
		}
		tp.neffSum += neff
		c.join(tp, d, t, vec, stats)
	}
	tp.label = c.label(tp) // join names a large topic only now and then
	return tp
}

// close takes a resident topic out of the clusterer.
func (c *Clusterer) close(tp *topic) {
	tp.dirty = false
	c.release(tp)
}
