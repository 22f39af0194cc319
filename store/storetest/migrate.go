package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// Copy copies the install of from into to, as `storyline migrate` does.
func Copy(ctx context.Context, from, to Store) (store.Counts, error) {
	var got store.Counts
	err := from.Export(ctx, func(x *store.Export) error {
		var err error
		got, err = to.Import(ctx, x)
		return err
	})
	return got, err
}

// RunMigrate runs the tests of a copy from the backend that from makes
// to the one that to makes: a round trip from → to → from that keeps
// everything readable and lets the clustering continue as if nothing
// happened, and an import that refuses or fails keeping nothing.
func RunMigrate(t *testing.T, from, to Open) {
	t.Run("RoundTrip", func(t *testing.T) { testMigrateRoundTrip(t, from, to) })
	t.Run("RefusesNonEmpty", func(t *testing.T) { testMigrateRefusesNonEmpty(t, from, to) })
	t.Run("FailedImportKeepsNothing", func(t *testing.T) { testMigrateFailedImport(t, from, to) })
}

// URLs of Populate's feeds that a test looks up.
const (
	privateURL   = "https://reader:pw@private.example/feed?token=s3cret"
	movedFromURL = "https://old.example/feed"
	movedToURL   = "https://new.example/feed"
)

// Populate fills db with an install that has a bit of everything a copy
// must keep: feeds with credentials, disabled after errors, moved by a
// redirect; clustered storylines, reclustered (old IDs lead to new ones)
// and merged; pending stories, one with an image and categories.
func Populate(t *testing.T, db Store) {
	t.Helper()
	ctx := context.Background()
	outlets := storylines(t, db)
	ClusterStories(t, db, true)
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		cfg := cluster.DefaultConfig()
		st, err := tx.LoadClusterState(ctx, cfg.Window+cfg.History)
		if err != nil {
			return err
		}
		if len(st.Topics) < 2 {
			return fmt.Errorf("%d storylines to merge", len(st.Topics))
		}
		from, into := st.Topics[0], st.Topics[1]
		if err := tx.MergeTopic(ctx, from.ID, into.ID); err != nil {
			return err
		}
		into.Size += from.Size
		if err := tx.SaveTopic(ctx, into); err != nil {
			return err
		}
		_, err = tx.SaveClusterCounters(ctx, store.ClusterCounters{LastTopicID: st.LastTopicID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A late story: the clock stays ahead of it, so its storyline was
	// last joined (Kept) after its latest story, which decides how long
	// the clusterer keeps it.
	if _, err := SavePoll(ctx, db, store.PollResult{FeedID: outlets[0], PolledAt: T0, Status: 200, Entries: []feeds.Entry{
		{ID: "s6", Link: "https://news.example/6", Title: "Harbour bridge cables inspected after storm",
			Text: "Engineers inspected the cables of the harbour bridge.", Language: "en", Published: T0.Add(-270 * time.Minute)}}}); err != nil {
		t.Fatal(err)
	}
	ClusterStories(t, db, false)

	private, err := db.AddFeed(ctx, store.NewFeed{URL: privateURL, Title: "Private", Interval: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	gone := addFeed(t, db, "https://gone.example/feed")
	moved := addFeed(t, db, movedFromURL)
	_, err = SavePolls(ctx, db, []store.PollResult{
		// Its own title, which the user's hides.
		{FeedID: private.ID, PolledAt: T0, Status: 200, Title: "Members' news", NextPollAt: T0.Add(30 * time.Minute)},
		{FeedID: gone.ID, PolledAt: T0, Status: 410, Err: "410 Gone", Errors: 3,
			NextPollAt: T0.Add(time.Hour), DisableReason: "gone for good (410)"},
		movedPoll(moved.ID),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// movedPoll is the poll that moved Populate's redirected feed.
func movedPoll(id int64) store.PollResult {
	return store.PollResult{FeedID: id, PolledAt: T0, Status: 200, NewURL: movedToURL,
		ETag: `"v7"`, LastModified: "Thu, 26 Nov 2026 11:00:00 GMT", Title: "Mover", SiteLink: "https://new.example/",
		Language: "de", TTL: 2 * time.Hour, NextPollAt: T0.Add(2 * time.Hour),
		Entries: []feeds.Entry{
			{ID: "m1", Link: "https://new.example/1", Title: "Fähre fährt wieder", Text: "Die Fähre fährt wieder nach Plan.",
				Categories: []string{"Verkehr", "Hafen"}, Image: "https://img.example/faehre.jpg", Author: "Ines",
				Published: T0.Add(-30 * time.Minute), Updated: T0.Add(-10 * time.Minute)},
			{ID: "m2", Link: "https://new.example/2", Title: "Marktbericht", Summary: "<p>Kurse</p>", Text: "Kurse stabil.",
				Published: T0.Add(-20 * time.Minute)},
		}}
}

func testMigrateRoundTrip(t *testing.T, from, to Open) {
	ctx := context.Background()
	now := T0
	clock := func() time.Time { return now }
	src, mid, back := from(t, clock), to(t, clock), from(t, clock)
	Populate(t, src)
	late := false
	err := src.WriteTx(ctx, func(tx store.Tx) error {
		st, err := tx.LoadClusterState(ctx, math.MaxInt64/2)
		for _, ts := range st.Topics {
			late = late || ts.Kept.After(ts.Last)
		}
		return err
	})
	if err != nil || !late {
		t.Fatalf("no storyline joined after its latest story (%v): the copy of that time is not tested", err)
	}
	v0, err := mid.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, hop := range []struct{ from, to Store }{{src, mid}, {mid, back}} {
		counts, err := Copy(ctx, hop.from, hop.to)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts := sourceCounts(t, src)
		if counts != wantCounts || counts.Feeds != 6 || counts.Pending != 2 || counts.Aliases == 0 || counts.Memberships != 7 {
			t.Errorf("copied %+v, want %+v", counts, wantCounts)
		}
	}
	for _, db := range []Store{mid, back} {
		SameInstall(t, src, db)
	}
	srcV, _ := src.DataVersion(ctx)
	for _, db := range []Store{mid, back} {
		v, err := db.DataVersion(ctx)
		if err != nil || v.Version <= srcV.Version || v.Version == v0.Version {
			t.Errorf("data version of a copy %+v, %v; want it past the source's %+v and the empty database's %+v", v, err, srcV, v0)
		}
	}
	// The copy still knows the moved feed by the URL it was added with.
	for _, db := range []Store{src, back} {
		f, err := db.AddFeed(ctx, store.NewFeed{URL: movedFromURL})
		if !errors.Is(err, store.ErrExists) || f.URL != movedToURL {
			t.Errorf("AddFeed(%s) = %+v, %v; want the feed it moved to, ErrExists", movedFromURL, f, err)
		}
	}

	// The source and the final copy go on alike: new IDs after the
	// copied ones, an unchanged story recognised by its hash, new stories
	// clustered into the same storylines.
	now = T0.Add(time.Hour)
	for _, db := range []Store{src, back} {
		late := addFeed(t, db, "https://late.example/feed")
		moved, err := db.Feed(ctx, movedToURL)
		if err != nil {
			t.Fatal(err)
		}
		rs := []store.PollResult{movedPoll(moved.ID), {FeedID: late.ID, PolledAt: now, Status: 200, Entries: []feeds.Entry{
			{ID: "l1", Link: "https://late.example/1", Title: "Harbour bridge reopens after storm repairs",
				Text: "The harbour bridge reopened after engineers repaired the storm damage to its cables.", Language: "en", Published: now},
			{ID: "l2", Link: "https://late.example/2", Title: "Museum opens new dinosaur hall",
				Text: "The natural history museum opened a hall of dinosaur skeletons.", Language: "en", Published: now},
		}}}
		rs[0].NewURL = ""
		// Without the user's title, the feed's own shows.
		if _, err := db.SyncFeeds(ctx, []store.NewFeed{{URL: privateURL, Interval: 30 * time.Minute}}); err != nil {
			t.Fatal(err)
		}
		st, err := SavePolls(ctx, db, rs)
		if err != nil {
			t.Fatal(err)
		}
		if st[0].Unchanged != 2 || st[1].New != 2 {
			t.Errorf("polls after the copy: %+v; want the moved feed's stories unchanged, 2 new", st)
		}
		ClusterStories(t, db, false)
	}
	SameInstall(t, src, back)
	es, _ := back.Entries(ctx, store.EntryQuery{Limit: 2})
	if len(es) != 2 || es[0].TopicID == 0 || es[0].TopicID == es[1].TopicID {
		t.Errorf("the new stories after the copy: %+v; want them in two storylines", es)
	}
}

// sourceCounts is what Export counts in db.
func sourceCounts(t *testing.T, db Store) store.Counts {
	t.Helper()
	var c store.Counts
	if err := db.Export(context.Background(), func(x *store.Export) error { c = x.Counts; return nil }); err != nil {
		t.Fatal(err)
	}
	return c
}

// SameInstall fails t unless everything readable of got is as in want:
// feeds (with their credentials), entries, storylines and their outlets,
// where old topic IDs lead, search, and the clustering's state.
func SameInstall(t *testing.T, want, got Store) {
	t.Helper()
	ctx := context.Background()
	same := func(what string, a, b any) {
		t.Helper()
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s of the copy:\n%+v\nwant\n%+v", what, b, a)
		}
	}
	read := func(db Store) (r struct {
		feeds    []store.Feed
		fetch    []string
		next     time.Time
		entries  []store.StoredEntry
		topics   []store.Topic
		one      []store.Topic
		outlets  map[int64][]store.OutletCount
		moved    map[int64]int64
		search   map[string][]int64
		analyzer int
		gen      int64
		states   []*cluster.State
		pending  []cluster.Document
		docs     []cluster.Document
	}) {
		t.Helper()
		var err error
		check := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		r.feeds, err = db.Feeds(ctx)
		check(err)
		for _, f := range r.feeds {
			r.fetch = append(r.fetch, f.FetchURL())
		}
		r.next, err = db.NextPollAt(ctx)
		check(err)
		r.entries, err = db.Entries(ctx, store.EntryQuery{})
		check(err)
		r.topics, err = db.Topics(ctx, store.TopicQuery{})
		check(err)
		var ids []int64
		for _, tp := range r.topics {
			one, err := db.Topic(ctx, tp.ID)
			check(err)
			r.one = append(r.one, one)
			ids = append(ids, tp.ID)
		}
		r.outlets, err = db.TopicOutlets(ctx, ids)
		check(err)
		r.search = map[string][]int64{}
		for _, q := range []string{"harbour", "bridge storm", "fähre", "Kurse", "choir"} {
			hits, err := db.Search(ctx, q, 0)
			check(err)
			var ids []int64
			for _, h := range hits {
				ids = append(ids, h.ID)
			}
			// Each backend ranks in its own way.
			slices.Sort(ids)
			r.search[q] = ids
		}
		r.analyzer, _, err = db.AnalyzerStale(ctx)
		check(err)
		cfg := cluster.DefaultConfig()
		check(db.WriteTx(ctx, func(tx store.Tx) error {
			if r.gen, err = tx.ClusterGeneration(ctx); err != nil {
				return err
			}
			// Spans that take in none, some and all of the topics: which
			// are resident depends on the time a story last joined each.
			for _, span := range []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour, cfg.Window + cfg.History, math.MaxInt64 / 2} {
				st, err := tx.LoadClusterState(ctx, span)
				if err != nil {
					return err
				}
				r.states = append(r.states, st)
			}
			if r.pending, err = tx.PendingDocs(ctx, math.MaxInt32); err != nil {
				return err
			}
			r.docs, err = tx.AllDocs(ctx)
			return err
		}))
		r.moved = map[int64]int64{}
		for id := int64(1); id <= r.states[0].LastTopicID+1; id++ {
			if to, err := db.TopicMovedTo(ctx, id); err == nil {
				r.moved[id] = to
			} else if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrGone) {
				t.Fatal(err)
			}
		}
		return r
	}
	a, b := read(want), read(got)
	if len(a.feeds) == 0 || len(a.entries) == 0 || len(a.topics) == 0 {
		t.Fatalf("nothing to compare: %d feeds, %d entries, %d topics", len(a.feeds), len(a.entries), len(a.topics))
	}
	same("feeds", a.feeds, b.feeds)
	same("fetch URLs", a.fetch, b.fetch)
	same("next poll", a.next, b.next)
	same("entries", a.entries, b.entries)
	same("topics", a.topics, b.topics)
	same("topics one by one", a.one, b.one)
	same("outlets", a.outlets, b.outlets)
	same("moved topic IDs", a.moved, b.moved)
	same("search hits", a.search, b.search)
	same("analyzer version", a.analyzer, b.analyzer)
	same("cluster generation", a.gen, b.gen)
	same("cluster state", a.states, b.states)
	same("pending stories", a.pending, b.pending)
	same("stories", a.docs, b.docs)
}

// An import into a database that holds anything is refused, naming what
// it holds, and changes neither database.
func testMigrateRefusesNonEmpty(t *testing.T, from, to Open) {
	ctx := context.Background()
	src, dst := from(t, func() time.Time { return T0 }), to(t, func() time.Time { return T0 })
	Populate(t, src)
	addFeed(t, dst, "https://mine.example/feed")
	v, _ := dst.DataVersion(ctx)
	_, err := Copy(ctx, src, dst)
	if !errors.Is(err, store.ErrNotEmpty) {
		t.Fatalf("copy into a database with a feed: %v, want ErrNotEmpty", err)
	}
	if fs, _ := dst.Feeds(ctx); len(fs) != 1 || fs[0].URL != "https://mine.example/feed" {
		t.Errorf("feeds of the refused destination: %+v", fs)
	}
	if es, _ := dst.Entries(ctx, store.EntryQuery{}); len(es) != 0 {
		t.Errorf("%d entries in the refused destination", len(es))
	}
	if v2, _ := dst.DataVersion(ctx); v2 != v {
		t.Errorf("data version of the refused destination moved: %+v, was %+v", v2, v)
	}
}

// An import whose source fails, whose context ends, or whose copy does
// not count what the source counted keeps nothing; the database is then
// as empty as before, and a copy into it succeeds.
func testMigrateFailedImport(t *testing.T, from, to Open) {
	src, dst := from(t, func() time.Time { return T0 }), to(t, func() time.Time { return T0 })
	Populate(t, src)
	boom := errors.New("source broke")
	v0, _ := dst.DataVersion(context.Background())
	for _, tc := range []struct {
		name  string
		spoil func(x *store.Export, cancel context.CancelFunc)
		want  error
	}{
		{"StreamFails", func(x *store.Export, _ context.CancelFunc) {
			x.Memberships = failAfter(x.Memberships, 3, boom, nil)
		}, boom},
		{"Interrupted", func(x *store.Export, cancel context.CancelFunc) {
			x.Entries = failAfter(x.Entries, 2, nil, cancel)
		}, context.Canceled},
		{"CountsDiffer", func(x *store.Export, _ context.CancelFunc) { x.Counts.Terms++ }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := src.Export(ctx, func(x *store.Export) error {
				tc.spoil(x, cancel)
				_, err := dst.Import(ctx, x)
				return err
			})
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("import: %v, want %v", err, tc.want)
			}
			ctx = context.Background()
			if fs, _ := dst.Feeds(ctx); len(fs) != 0 {
				t.Errorf("%d feeds kept", len(fs))
			}
			if es, _ := dst.Entries(ctx, store.EntryQuery{}); len(es) != 0 {
				t.Errorf("%d entries kept", len(es))
			}
			if ts, _ := dst.Topics(ctx, store.TopicQuery{}); len(ts) != 0 {
				t.Errorf("%d topics kept", len(ts))
			}
			if v, _ := dst.DataVersion(ctx); v != v0 {
				t.Errorf("data version %+v after a failed import, was %+v", v, v0)
			}
		})
	}
	if _, err := Copy(context.Background(), src, dst); err != nil {
		t.Fatalf("copy after the failed ones: %v", err)
	}
	SameInstall(t, src, dst)
}

// failAfter passes on n records of seq, then fails with err, after
// calling cancel when it is set.
func failAfter[T any](seq iter.Seq2[T, error], n int, err error, cancel func()) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		i := 0
		for v, e := range seq {
			if i == n {
				if cancel != nil {
					cancel()
				}
				if err != nil {
					yield(v, err)
					return
				}
			}
			i++
			if !yield(v, e) {
				return
			}
		}
	}
}
