package ingest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// storyStream is a small made-up news stream: four events, each reported by
// three outlets in different words, interleaved in time.
func storyStream() [][]feeds.Entry {
	events := [][]string{
		{"Harbour bridge closed after cargo ship collision", "Cargo ship strikes harbour bridge, span closed to traffic",
			"Bridge over the harbour shut as freighter hits pillar", "Engineers inspect harbour bridge after ship collision",
			"Harbour bridge to stay closed for weeks after collision"},
		{"Valdoria wins national chess championship final", "Chess final: Valdoria takes the national title",
			"Teenager Valdoria crowned national chess champion", "Valdoria beats veteran in chess championship final"},
		{"Heavy snow closes mountain passes in the north", "Snowstorm shuts northern mountain passes",
			"Northern passes closed as heavy snow falls", "Snow warning extended for northern mountains"},
		{"Orland Bank raises interest rate to four percent", "Central bank Orland lifts rates to 4%",
			"Orland Bank interest rate rise surprises markets", "Markets react to Orland Bank rate hike"},
	}
	start := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	out := make([][]feeds.Entry, 3)
	n := 0
	for round := 0; round < 5; round++ {
		for ev, heads := range events {
			if round >= len(heads) {
				continue
			}
			feed := (ev + round) % 3
			n++
			out[feed] = append(out[feed], feeds.Entry{
				ID: fmt.Sprintf("e%d-%d", ev, round), Link: fmt.Sprintf("https://o%d.example/%d/%d", feed, ev, round),
				Title: heads[round], Text: heads[round] + ". More details are expected later today.",
				Published: start.Add(time.Duration(n) * 37 * time.Minute),
			})
		}
	}
	return out
}

// topicsOf maps each entry GUID to the set of GUIDs in its topic, which
// compares clusterings independently of topic numbering.
func topicsOf(t *testing.T, db *testDB) map[string]string {
	t.Helper()
	es, err := db.Entries(context.Background(), store.EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	byTopic := map[int64][]string{}
	for _, e := range es {
		if e.TopicID == 0 {
			t.Fatalf("entry %s has no topic", e.Entry.ID)
		}
		byTopic[e.TopicID] = append(byTopic[e.TopicID], e.Entry.ID)
	}
	out := map[string]string{}
	for id, members := range byTopic {
		for _, m := range members {
			out[m] = fmt.Sprint(id, members)
		}
	}
	return out
}

// groupsOf is topicsOf without the topic IDs, which a recluster changes.
func groupsOf(t *testing.T, db *testDB) map[string]string {
	t.Helper()
	out := topicsOf(t, db)
	for k, v := range out {
		out[k] = v[strings.IndexByte(v, ' ')+1:]
	}
	return out
}

// streamFeeds subscribes db to the n outlets of a made-up stream and
// returns their feed IDs.
func streamFeeds(t *testing.T, db *testDB, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = addFeed(t, db, fmt.Sprintf("https://o%d.example/feed", i)).ID
	}
	return ids
}

func saveStream(t *testing.T, db *testDB, stream [][]feeds.Entry, ids []int64, from, to int) {
	t.Helper()
	// Poll the feeds in rounds, as the daemon would, one entry per feed per
	// round, so that stories arrive roughly in time order.
	for round := from; round < to; round++ {
		for fi, es := range stream {
			if round >= len(es) {
				continue
			}
			if _, err := db.SavePoll(context.Background(), store.PollResult{FeedID: ids[fi], PolledAt: t0, Status: 200,
				Entries: es[:round+1]}); err != nil {
				t.Fatal(err)
			}
			clusterPending(t, db)
		}
	}
}

func TestClusteringSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	stream := storyStream()
	dir := t.TempDir()

	// One uninterrupted run.
	whole := openAt(t, filepath.Join(dir, "whole.db"))
	ids := streamFeeds(t, whole, len(stream))
	saveStream(t, whole, stream, ids, 0, 7)
	want := topicsOf(t, whole)

	// The same stream, with a restart in the middle.
	path := filepath.Join(dir, "halves.db")
	db := openAt(t, path)
	streamFeeds(t, db, len(stream))
	saveStream(t, db, stream, ids, 0, 3)
	db.Close()
	db = openAt(t, path)
	saveStream(t, db, stream, ids, 3, 7)
	got := topicsOf(t, db)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("topics after a restart differ from one run:\n got %v\nwant %v", got, want)
	}
	wt, _ := whole.Topics(ctx, store.TopicQuery{})
	gt, _ := db.Topics(ctx, store.TopicQuery{})
	if !reflect.DeepEqual(wt, gt) {
		t.Errorf("topic rows differ:\n got %+v\nwant %+v", gt, wt)
	}
	// The stream has four events; the method may split one, but it must
	// not lump them together or leave every story alone.
	if len(gt) < 4 || len(gt) > 8 {
		t.Errorf("%d topics for 4 events: %+v", len(gt), gt)
	}
}

// Another process clustering into the same file must be noticed: the
// in-memory state of this one is stale then.
func TestClusteringTwoProcesses(t *testing.T) {
	stream := storyStream()
	path := filepath.Join(t.TempDir(), "two.db")
	a := openAt(t, path)
	b := openAt(t, path)
	ids := streamFeeds(t, a, len(stream))
	saveStream(t, a, stream, ids, 0, 2)
	saveStream(t, b, stream, ids, 2, 4)
	saveStream(t, a, stream, ids, 4, 7)

	whole := openAt(t, filepath.Join(t.TempDir(), "one.db"))
	streamFeeds(t, whole, len(stream))
	saveStream(t, whole, stream, ids, 0, 7)
	if got, want := topicsOf(t, a), topicsOf(t, whole); !reflect.DeepEqual(got, want) {
		t.Errorf("two writers:\n got %v\nwant %v", got, want)
	}
}

func TestRecluster(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	stream := storyStream()
	ids := streamFeeds(t, db, len(stream))
	saveStream(t, db, stream, ids, 0, 7)
	before := topicsOf(t, db)
	beforeRows, _ := db.Topics(ctx, store.TopicQuery{})

	// A failure half-way leaves the old topics in place.
	db.failRecluster = 7
	if _, _, err := db.Recluster(ctx); !errors.Is(err, errInjected) {
		t.Fatalf("Recluster with injected failure: %v", err)
	}
	if got := topicsOf(t, db); !reflect.DeepEqual(got, before) {
		t.Errorf("failed recluster changed topics:\n got %v\nwant %v", got, before)
	}
	if got, _ := db.Topics(ctx, store.TopicQuery{}); !reflect.DeepEqual(got, beforeRows) {
		t.Errorf("failed recluster changed topic rows")
	}
	db.failRecluster = 0

	// Rebuilt in time order, the entries form the same groups.
	n, nt, err := db.Recluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(before) || nt != len(beforeRows) {
		t.Errorf("Recluster = %d entries, %d topics; want %d, %d", n, nt, len(before), len(beforeRows))
	}
	after := topicsOf(t, db)
	if len(after) != len(before) {
		t.Fatalf("%d entries clustered after recluster, %d before", len(after), len(before))
	}
	// And clustering continues from the rebuilt state.
	if _, err := db.SavePoll(ctx, store.PollResult{FeedID: ids[0], PolledAt: t0, Status: 200, Entries: []feeds.Entry{{
		ID: "late", Title: "Harbour bridge reopens after collision repairs", Published: time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)}}}); err != nil {
		t.Fatal(err)
	}
	clusterPending(t, db)
	late, _ := db.Entries(ctx, store.EntryQuery{Limit: 1})
	bridge, _ := db.Entries(ctx, store.EntryQuery{FeedID: ids[0]})
	for _, e := range bridge {
		if e.Entry.ID == "e0-0" && e.TopicID != late[0].TopicID {
			t.Errorf("late bridge story in topic %d, the bridge story in %d", late[0].TopicID, e.TopicID)
		}
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	stream := storyStream()
	ids := streamFeeds(t, db, len(stream))
	saveStream(t, db, stream, ids, 0, 7)
	hits, err := db.Search(ctx, "chess", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 4 {
		t.Errorf("chess: %d hits, want 4", len(hits))
	}
	for _, h := range hits {
		if h.TopicID == 0 {
			t.Errorf("hit %q has no topic", h.Entry.Title)
		}
	}
	// Query syntax is text, never an FTS error.
	for _, q := range []string{`harbour AND "bridge`, `NEAR(`, `*`, `bridge-`} {
		if _, err := db.Search(ctx, q, 0); err != nil && q != `*` {
			t.Errorf("Search(%q): %v", q, err)
		}
	}
	// Edits are searchable.
	db.SavePoll(ctx, store.PollResult{FeedID: ids[0], PolledAt: t0, Status: 200, Entries: []feeds.Entry{{
		ID: stream[0][0].ID, Link: stream[0][0].Link, Title: "Zeppelin sighted", Published: stream[0][0].Published}}})
	if hits, _ := db.Search(ctx, "zeppelin", 0); len(hits) != 1 {
		t.Errorf("edited title: %d hits", len(hits))
	}
	// New entries enter the index once per poll: one a batch adds and the
	// same batch's next poll of the feed edits stays consistent.
	entry := func(title string) []feeds.Entry {
		return []feeds.Entry{{ID: "zz", Link: "https://o0.example/zz", Title: title, Published: t0}}
	}
	if _, err := db.SavePolls(ctx, []store.PollResult{
		{FeedID: ids[1], PolledAt: t0, Status: 200, Entries: entry("Airship over the harbour")},
		{FeedID: ids[1], PolledAt: t0, Status: 200, Entries: entry("Blimp over the harbour")},
	}); err != nil {
		t.Fatal(err)
	}
	if hits, _ := db.Search(ctx, "blimp", 0); len(hits) != 1 {
		t.Errorf("entry added and edited in one batch: %d hits", len(hits))
	}
	if hits, _ := db.Search(ctx, "airship", 0); len(hits) != 0 {
		t.Errorf("its first title: %d hits, want none", len(hits))
	}
	// The index is contentless (migration 0012): FTS5 cannot check it
	// against the entries, its rowids can be.
	var missing, extra int
	if err := db.raw.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM entries WHERE id NOT IN (SELECT rowid FROM entries_fts)),
		(SELECT COUNT(*) FROM entries_fts WHERE rowid NOT IN (SELECT id FROM entries))`).Scan(&missing, &extra); err != nil {
		t.Errorf("full-text index: %v", err)
	} else if missing != 0 || extra != 0 {
		t.Errorf("full-text index out of step: %d entries missing from it, %d rows of it without an entry", missing, extra)
	}
}

func TestRemoveFeedUpdatesTopics(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	stream := storyStream()
	ids := streamFeeds(t, db, len(stream))
	saveStream(t, db, stream, ids, 0, 7)
	if _, err := db.RemoveFeed(ctx, fmt.Sprint(ids[0])); err != nil {
		t.Fatal(err)
	}
	ts, _ := db.Topics(ctx, store.TopicQuery{})
	total := 0
	for _, tp := range ts {
		es, _ := db.Entries(ctx, store.EntryQuery{TopicID: tp.ID})
		if len(es) != tp.Size || tp.Size == 0 {
			t.Errorf("topic %d: size %d, %d entries", tp.ID, tp.Size, len(es))
			continue
		}
		// Newest first: the topic spans exactly its remaining stories.
		if !tp.Last.Equal(es[0].Entry.Published) || !tp.First.Equal(es[len(es)-1].Entry.Published) {
			t.Errorf("topic %d spans %v..%v, its stories %v..%v", tp.ID, tp.First, tp.Last,
				es[len(es)-1].Entry.Published, es[0].Entry.Published)
		}
		total += tp.Size
	}
	es, _ := db.Entries(ctx, store.EntryQuery{})
	if total != len(es) {
		t.Errorf("topics hold %d stories, %d entries left", total, len(es))
	}
}

// TestRemoveFeedRebuildsClustering: after a feed is removed, its stories
// are gone from the statistics (the same as a database that never had the
// feed), no topic shows one of them as its headline, and the clusterer in
// memory agrees with the one a restart loads: new stories land alike.
func TestRemoveFeedRebuildsClustering(t *testing.T) {
	ctx := context.Background()
	stream := storyStream()
	dir := t.TempDir()
	open := func(name string, skip int) (*testDB, []int64) {
		db := openAt(t, filepath.Join(dir, name))
		ids := streamFeeds(t, db, len(stream))
		s := append([][]feeds.Entry(nil), stream...)
		if skip >= 0 {
			s[skip] = nil
		}
		saveStream(t, db, s, ids, 0, 7)
		return db, ids
	}
	termStats := func(db *testDB) (map[string]int64, int64) {
		st := clusterState(t, db, 0)
		return st.DocFreq, st.Docs
	}

	never, _ := open("never.db", 0)
	defer never.Close()
	wantDF, wantDocs := termStats(never)

	db, ids := open("removed.db", -1)
	if _, err := db.RemoveFeed(ctx, fmt.Sprint(ids[0])); err != nil {
		t.Fatal(err)
	}
	gotDF, gotDocs := termStats(db)
	if gotDocs != wantDocs || !reflect.DeepEqual(gotDF, wantDF) {
		t.Errorf("after removal: %d docs, %d terms; a database without the feed: %d docs, %d terms",
			gotDocs, len(gotDF), wantDocs, len(wantDF))
	}
	ts, err := db.Topics(ctx, store.TopicQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts {
		es, _ := db.Entries(ctx, store.EntryQuery{TopicID: tp.ID})
		found := false
		for _, e := range es {
			found = found || e.Entry.Title == tp.Headline
		}
		if !found {
			t.Errorf("topic %d: headline %q is none of its %d remaining stories", tp.ID, tp.Headline, len(es))
		}
	}

	// The same removal, then a restart; then one more story in both.
	again, _ := open("restarted.db", -1)
	if _, err := again.RemoveFeed(ctx, fmt.Sprint(ids[0])); err != nil {
		t.Fatal(err)
	}
	again.Close()
	again = openAt(t, filepath.Join(dir, "restarted.db"))
	extra := append(stream[1], feeds.Entry{ID: "late", Title: "Harbour bridge reopens after repairs to collision damage",
		Text: "The harbour bridge reopened.", Published: stream[1][len(stream[1])-1].Published.Add(time.Hour)})
	for _, x := range []*testDB{db, again} {
		savePoll(t, x, ids[1], extra...)
	}
	if got, want := topicsOf(t, db), topicsOf(t, again); !reflect.DeepEqual(got, want) {
		t.Errorf("after removal, the running clusterer and a restarted one disagree:\n%v\n%v", got, want)
	}
	db.Close()
}

// siblingStream is two storylines of one kind from two outlets: reports
// on one boxer's title defence and on another's, which share nearly all
// their words.
func siblingStream() [][]feeds.Entry {
	start := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	fights := []struct{ champ, opp, city string }{{"Klitschko", "Pulev", "Hamburg"}, {"Povetkin", "Chagaev", "Moscow"}}
	out := make([][]feeds.Entry, 2)
	n := 0
	for k := range 5 {
		for fi, f := range fights {
			n++
			body := []string{
				fmt.Sprintf("%s retained his heavyweight belts with a knockout of %s in %s on Saturday night.", f.champ, f.opp, f.city),
				fmt.Sprintf("The champion %s dropped %s twice before the referee stopped the bout in round %d.", f.champ, f.opp, 5+k),
				"Promoters said the sold-out arena saw the biggest crowd for a heavyweight title fight in years.",
				fmt.Sprintf("%s said after the fight that he wants to unify every heavyweight belt.", f.champ),
				"The judges had the champion ahead on all scorecards when the stoppage came, ringside officials said.",
				fmt.Sprintf("Trainers for %s complained about the gloves and the canvas before the bout.", f.opp),
				"Television viewers across Europe watched the broadcast, which drew record ratings for the network.",
				"Bookmakers had offered long odds on an upset, and tickets for the event sold within hours.",
				"Medical staff examined both boxers after the contest, as the sanctioning body requires.",
				"Next year the winner could face a mandatory challenger chosen by the governing federation.",
			}
			out[fi] = append(out[fi], feeds.Entry{
				ID: fmt.Sprintf("f%d-%d", fi, k), Link: fmt.Sprintf("https://o%d.example/fight/%d", fi, k),
				Title:     fmt.Sprintf("%s defends heavyweight title against %s in %s", f.champ, f.opp, f.city),
				Text:      strings.Join(body, "\n"),
				Published: start.Add(time.Duration(n) * time.Hour),
			})
		}
	}
	return out
}

// siblingConfig lets the two fights mix, which is what a split repairs.
func siblingConfig() cluster.Config {
	cfg := cluster.DefaultConfig()
	cfg.HeadlineTerms, cfg.ArticleTerms = 2, 6
	return cfg
}

// TestSplitPersists: a topic split while polling is split in the database
// too (memberships, both topics' rows and sizes), and a restart in the
// middle of the stream ends with the same topics as one run.
func TestSplitPersists(t *testing.T) {
	ctx := context.Background()
	stream := siblingStream()
	dir := t.TempDir()
	open := func(name string, cfg cluster.Config) (*testDB, []int64) {
		db := openAt(t, filepath.Join(dir, name), cfg)
		ids := streamFeeds(t, db, len(stream))
		return db, ids
	}
	whole, ids := open("whole.db", siblingConfig())
	saveStream(t, whole, stream, ids, 0, 5)
	want := topicsOf(t, whole)
	ts, err := whole.Topics(ctx, store.TopicQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 {
		t.Fatalf("%d topics, want the two fights: %v", len(ts), want)
	}
	for _, tp := range ts {
		es, _ := whole.Entries(ctx, store.EntryQuery{TopicID: tp.ID})
		if len(es) != tp.Size || tp.Size != 5 {
			t.Errorf("topic %d %q: size %d, %d entries, want 5", tp.ID, tp.Name, tp.Size, len(es))
		}
		for _, e := range es {
			if e.FeedID != es[0].FeedID {
				t.Errorf("topic %d mixes the fights: %s and %s", tp.ID, e.Entry.Title, es[0].Entry.Title)
			}
		}
	}

	halves, _ := open("halves.db", siblingConfig())
	saveStream(t, halves, stream, ids, 0, 2)
	halves.Close()
	halves = openAt(t, filepath.Join(dir, "halves.db"), siblingConfig())
	saveStream(t, halves, stream, ids, 2, 5)
	if got := topicsOf(t, halves); !reflect.DeepEqual(got, want) {
		t.Errorf("with a restart:\n%v\nwant\n%v", got, want)
	}
	// Without splitting, the same stream mixes the fights.
	cfg := siblingConfig()
	cfg.SplitFactor = -1
	mixed, _ := open("mixed.db", cfg)
	saveStream(t, mixed, stream, ids, 0, 5)
	if n, _ := mixed.CountTopics(ctx, time.Time{}, 0); n != 1 {
		t.Errorf("without splits %d topics: the fights do not mix, so the test shows nothing", n)
	}
}

// TestEditedEntryStatistics: the document frequencies follow an edited
// entry, so that removing its feed later takes out the words it has now,
// not the ones it had (or those of another feed's entry).
func TestEditedEntryStatistics(t *testing.T) {
	ctx := context.Background()
	b := feeds.Entry{ID: "b1", Title: "Charlie delta echo report", Link: "https://b.example/1", Published: t0}

	db := openTest(t)
	fa, fb := addFeed(t, db, "https://a.example/feed"), addFeed(t, db, "https://b.example/feed")
	savePoll(t, db, fb.ID, b)
	a := feeds.Entry{ID: "a1", Title: "Alpha bravo zulu news", Link: "https://a.example/1", Published: t0.Add(time.Hour)}
	savePoll(t, db, fa.ID, a)
	a.Title = "Charlie delta foxtrot"
	savePoll(t, db, fa.ID, a)

	// The statistics now count the edited title, as a database that saw
	// only the edited version does.
	fresh := openTest(t)
	ga, gb := addFeed(t, fresh, "https://a.example/feed"), addFeed(t, fresh, "https://b.example/feed")
	savePoll(t, fresh, gb.ID, b)
	savePoll(t, fresh, ga.ID, a)
	if got, want := termStatsOf(t, db), termStatsOf(t, fresh); !reflect.DeepEqual(got, want) {
		t.Errorf("after the edit: %v, want %v", got, want)
	}

	if _, err := db.RemoveFeed(ctx, fmt.Sprint(fa.ID)); err != nil {
		t.Fatal(err)
	}
	never := openTest(t)
	savePoll(t, never, addFeed(t, never, "https://b.example/feed").ID, b)
	if got, want := termStatsOf(t, db), termStatsOf(t, never); !reflect.DeepEqual(got, want) {
		t.Errorf("after removing the edited entry's feed: %v, want %v", got, want)
	}
}

// TestAnalyzerVersion: a database records which analyzer built its
// clustering; one built by another version is reported stale until a
// recluster rebuilds it.
func TestAnalyzerVersion(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if v, stale, err := db.AnalyzerStale(ctx); err != nil || stale || v != 0 {
		t.Fatalf("empty database: version %d, stale %v, %v", v, stale, err)
	}
	f, _ := db.AddFeed(ctx, store.NewFeed{URL: "https://a.example/feed"})
	if _, err := db.SavePoll(ctx, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200,
		Entries: []feeds.Entry{{ID: "1", Title: "Harbour bridge closed", Published: t0}}}); err != nil {
		t.Fatal(err)
	}
	clusterPending(t, db)
	if v, stale, _ := db.AnalyzerStale(ctx); stale || v != cluster.AnalyzerVersion {
		t.Errorf("after clustering: version %d, stale %v; want %d", v, stale, cluster.AnalyzerVersion)
	}
	// As a database clustered before versions were recorded looks.
	if _, err := db.raw.Exec("UPDATE cluster_meta SET analyzer = 1"); err != nil {
		t.Fatal(err)
	}
	if _, stale, _ := db.AnalyzerStale(ctx); !stale {
		t.Error("version 1 not reported stale")
	}
	if _, _, err := db.Recluster(ctx); err != nil {
		t.Fatal(err)
	}
	if v, stale, _ := db.AnalyzerStale(ctx); stale || v != cluster.AnalyzerVersion {
		t.Errorf("after recluster: version %d, stale %v", v, stale)
	}
}

// TestTopicAliases: a topic merged into another leaves its ID behind as an
// alias of the survivor; a recluster numbers its topics after every old ID
// and makes each old ID an alias of the new topic with most of its
// stories; a failed recluster keeps the aliases as they were; and removing
// the stories' feed takes the aliases along with the topics.
func TestTopicAliases(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	f, _ := db.AddFeed(ctx, store.NewFeed{URL: "https://volcano.example/feed"})
	// As in cluster's TestAbsorbSmallTopic: the early story opens a topic
	// that later absorbs the storyline's own.
	heads := []string{"Ash cloud grounds flights",
		"Iceland volcano erupts", "Volcano eruption in Iceland",
		"Iceland volcano eruption grows", "Scientists watch Iceland volcano",
		"Iceland volcano eruption intensifies", "Lava flows from Iceland volcano",
		"Iceland volcano eruption seen from space", "Volcano in Iceland erupts again",
		"Iceland volcano spews ash", "Iceland volcano eruption disrupts flights",
		"Ash falls near Iceland volcano", "Flights cancelled over Iceland volcano eruption",
	}
	var es []feeds.Entry
	for i, h := range heads {
		es = append(es, feeds.Entry{ID: fmt.Sprint("v", i), Title: h, Published: t0.Add(time.Duration(i) * time.Minute)})
	}
	savePoll(t, db, f.ID, es...)
	aliases := func() map[int64]int64 {
		t.Helper()
		rows, err := db.raw.QueryContext(ctx, "SELECT id, topic_id FROM topic_aliases")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[int64]int64{}
		for rows.Next() {
			var from, to int64
			if err := rows.Scan(&from, &to); err != nil {
				t.Fatal(err)
			}
			m[from] = to
		}
		return m
	}
	topics, _ := db.Topics(ctx, store.TopicQuery{})
	if len(topics) != 1 {
		t.Fatalf("%d topics, want the one storyline: %+v", len(topics), topics)
	}
	live := topics[0].ID
	merged := aliases()
	if len(merged) == 0 {
		t.Fatal("no alias after the merge (the stream no longer merges: the test needs another)")
	}
	for from, to := range merged {
		if to != live {
			t.Errorf("alias %d -> %d, want -> %d (the surviving topic)", from, to, live)
		}
		if _, err := db.Topic(ctx, from); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("merged topic %d still found: %v", from, err)
		}
		if got, err := db.TopicMovedTo(ctx, from); err != nil || got != live {
			t.Errorf("TopicMovedTo(%d) = %d, %v; want %d", from, got, err, live)
		}
	}
	if _, err := db.TopicMovedTo(ctx, live); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TopicMovedTo(live topic) = %v, want store.ErrNotFound", err)
	}

	db.failRecluster = 5
	if _, _, err := db.Recluster(ctx); !errors.Is(err, errInjected) {
		t.Fatalf("Recluster with injected failure: %v", err)
	}
	if got := aliases(); !reflect.DeepEqual(got, merged) {
		t.Errorf("failed recluster changed the aliases: %v, want %v", got, merged)
	}
	db.failRecluster = 0

	if _, _, err := db.Recluster(ctx); err != nil {
		t.Fatal(err)
	}
	topics, _ = db.Topics(ctx, store.TopicQuery{})
	if len(topics) != 1 {
		t.Fatalf("%d topics after recluster, want 1", len(topics))
	}
	renumbered := topics[0].ID
	old := []int64{live}
	for from := range merged {
		old = append(old, from)
		if renumbered <= from {
			t.Errorf("recluster reused ID %d (an old topic was %d)", renumbered, from)
		}
	}
	for _, id := range old {
		if got, err := db.TopicMovedTo(ctx, id); err != nil || got != renumbered {
			t.Errorf("after recluster TopicMovedTo(%d) = %d, %v; want %d", id, got, err, renumbered)
		}
	}

	if _, err := db.RemoveFeed(ctx, f.URL); err != nil {
		t.Fatal(err)
	}
	if got := aliases(); len(got) != 0 {
		t.Errorf("aliases of deleted topics remain: %v", got)
	}
}

// TestEditedEntryTopic: when an outlet corrects a story, its topic's name
// and representative headline follow, as in a database that only ever saw
// the corrected version, and the topic keeps its ID.
func TestEditedEntryTopic(t *testing.T) {
	ctx := context.Background()
	story := feeds.Entry{ID: "1", Title: "Volcano erupts near Grindvik", Text: "Lava reached the edge of Grindvik overnight, forcing an evacuation.", Published: t0}
	corrected := story
	corrected.Title = "Volcano erupts near Grindavik"
	corrected.Text = "Lava reached the edge of Grindavik overnight, forcing an evacuation."
	topic := func(db *testDB) store.Topic {
		t.Helper()
		ts, err := db.Topics(ctx, store.TopicQuery{})
		if err != nil || len(ts) != 1 {
			t.Fatalf("topics %+v, %v: want the one storyline", ts, err)
		}
		return ts[0]
	}

	db := openTest(t)
	feed := addFeed(t, db, "https://news.example/feed").ID
	savePoll(t, db, feed, story)
	before := topic(db)
	savePoll(t, db, feed, corrected)
	after := topic(db)

	fresh := openTest(t)
	savePoll(t, fresh, addFeed(t, fresh, "https://news.example/feed").ID, corrected)
	want := topic(fresh)
	if !strings.Contains(want.Name, "Grindavik") || want.Headline != corrected.Title {
		t.Fatalf("a fresh database names the story %q / %q: the test shows nothing", want.Name, want.Headline)
	}
	if after.Name != want.Name || after.Headline != want.Headline || after.Size != 1 {
		t.Errorf("after the correction: %q / %q (%d stories), want %q / %q", after.Name, after.Headline, after.Size, want.Name, want.Headline)
	}
	if after.ID != before.ID {
		t.Errorf("the storyline moved from topic %d to %d", before.ID, after.ID)
	}
}

// datedEntry returns a maker of entries linked under base and published
// at a time after start.
func datedEntry(base string, start time.Time) func(id, title string, at time.Duration) feeds.Entry {
	return func(id, title string, at time.Duration) feeds.Entry {
		return feeds.Entry{ID: id, Link: base + id, Title: title, Published: start.Add(at)}
	}
}

// oldStoryline is a feed's backlog: a storyline of two stories (g0, g1) at
// its start, then an unrelated story a day for days days, so that the
// storyline is long closed at the end.
func oldStoryline(entry func(id, title string, at time.Duration) feeds.Entry, days int) []feeds.Entry {
	es := []feeds.Entry{
		entry("g0", "Harbour bridge closed after cargo ship collision", 0),
		entry("g1", "Cargo ship strikes harbour bridge, span closed to traffic", 2*time.Hour),
	}
	for d := 1; d <= days; d++ {
		es = append(es, entry(fmt.Sprint("x", d), fmt.Sprintf("Filler%d event number%d in town%d", d, d, d), time.Duration(d)*24*time.Hour))
	}
	return es
}

// TestLateStoryAfterRestart: a story weeks older than the newest joins the
// closed storyline of its own time, loaded from the file after a restart
// (the store keeps closed topics resident for cluster.Config.History), and
// the storyline stays closed.
func TestLateStoryAfterRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "late.db")
	db := openAt(t, path)
	feed := addFeed(t, db, "https://late.example/feed").ID
	start := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	entry := datedEntry("https://late.example/", start)
	es := oldStoryline(entry, 10)
	savePoll(t, db, feed, es...)
	db.Close()

	db = openAt(t, path)
	savePoll(t, db, feed, append(es, entry("late", "Harbour bridge to stay closed for weeks after ship collision", 5*time.Hour))...)
	byID := map[string]store.StoredEntry{}
	all, err := db.Entries(ctx, store.EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		byID[e.Entry.ID] = e
	}
	then := byID["g0"].TopicID
	if byID["g1"].TopicID != then || byID["late"].TopicID != then {
		t.Fatalf("topics g0 %d, g1 %d, late %d: the late story did not join its storyline", then, byID["g1"].TopicID, byID["late"].TopicID)
	}
	tp, err := db.Topic(ctx, then)
	if err != nil {
		t.Fatal(err)
	}
	if tp.Size != 3 || !tp.Last.Equal(start.Add(5*time.Hour)) {
		t.Errorf("storyline after the late story: %+v, want 3 stories, the last at %v", tp, start.Add(5*time.Hour))
	}
}

// TestClusterPendingInTimeOrder: stories saved by several polls, the later
// ones first, are clustered in time order across all of them, as a
// recluster would, and are unclustered until then.
func TestClusterPendingInTimeOrder(t *testing.T) {
	ctx := context.Background()
	stream := storyStream()
	db := openTest(t)
	ids := streamFeeds(t, db, len(stream))
	for fi := len(stream) - 1; fi >= 0; fi-- {
		if _, err := db.SavePoll(ctx, store.PollResult{FeedID: ids[fi], PolledAt: t0, Status: 200, Entries: stream[fi]}); err != nil {
			t.Fatal(err)
		}
	}
	es, err := db.Entries(ctx, store.EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.TopicID != 0 {
			t.Fatalf("entry %s has topic %d before ClusterPending", e.Entry.ID, e.TopicID)
		}
	}
	n, err := db.ClusterPending(ctx)
	if err != nil || n != len(es) {
		t.Fatalf("ClusterPending = %d, %v; want %d stories", n, err, len(es))
	}
	if n, err := db.ClusterPending(ctx); err != nil || n != 0 {
		t.Errorf("second ClusterPending = %d, %v; want nothing left", n, err)
	}
	// Stories in time order open their storylines in time order.
	ts, err := db.Topics(ctx, store.TopicQuery{})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ts, func(a, b store.Topic) int { return a.First.Compare(b.First) })
	for i := 1; i < len(ts); i++ {
		if ts[i].ID < ts[i-1].ID {
			t.Errorf("topic %d (first story %v) opened before topic %d (first story %v)", ts[i].ID, ts[i].First, ts[i-1].ID, ts[i-1].First)
		}
	}
	got := groupsOf(t, db)
	if _, _, err := db.Recluster(ctx); err != nil {
		t.Fatal(err)
	}
	if want := groupsOf(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("pending stories clustered otherwise than in time order:\n got %v\nwant %v", got, want)
	}
}

// TestPendingEditAndRemoval: an edit to a story not clustered yet is
// clustered as edited, and removing a feed whose stories are pending
// leaves the statistics as if they had never come.
func TestPendingEditAndRemoval(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	a := addFeed(t, db, "https://a.example/feed").ID
	b := addFeed(t, db, "https://b.example/feed").ID
	at := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	savePoll(t, db, a, feeds.Entry{ID: "1", Title: "Harbour bridge closed after ship collision", Published: at})
	before := termStatsOf(t, db)
	poll := func(feed int64, id, title string) {
		t.Helper()
		if _, err := db.SavePoll(ctx, store.PollResult{FeedID: feed, PolledAt: t0, Status: 200,
			Entries: []feeds.Entry{{ID: id, Title: title, Published: at.Add(time.Hour)}}}); err != nil {
			t.Fatal(err)
		}
	}
	poll(b, "2", "Valdoria wins the chess final")
	poll(b, "2", "Valdoria crowned national chess champion")
	if _, err := db.RemoveFeed(ctx, fmt.Sprint(b)); err != nil {
		t.Fatal(err)
	}
	if got := termStatsOf(t, db); !reflect.DeepEqual(got, before) {
		t.Errorf("statistics after removing a pending feed:\n got %v\nwant %v", got, before)
	}
	poll(a, "3", "Harbour bridge shut")
	poll(a, "3", "Harbour bridge stays closed for repairs after ship collision")
	clusterPending(t, db)
	tp, err := db.Topics(ctx, store.TopicQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tp) != 1 || tp[0].Size != 2 {
		t.Fatalf("topics %+v, want the bridge storyline of 2 stories", tp)
	}
	if df := termStatsOf(t, db); df["shut"] != 0 || df["repair"] != 1 {
		t.Errorf("df of the edit's old word %d, of its new word %d; want 0 and 1", df["shut"], df["repair"])
	}
}

// TestEditOldStoryKeepsKept: an edit to a story of a storyline that left
// memory weeks ago rebuilds the storyline without marking it as joined
// now, so the next load of the clustering does not bring it back.
func TestEditOldStoryKeepsKept(t *testing.T) {
	db := openTest(t)
	feed := addFeed(t, db, "https://old.example/feed").ID
	es := oldStoryline(datedEntry("https://old.example/", time.Date(2026, 10, 1, 6, 0, 0, 0, time.UTC)), 40)
	savePoll(t, db, feed, es...)
	kept := func() int64 {
		var k int64
		if err := db.raw.QueryRow(`SELECT t.kept_at FROM topics t JOIN topic_entries te ON te.topic_id = t.id
			JOIN entries e ON e.id = te.entry_id WHERE e.guid = 'g0'`).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	before := kept()
	es[0].Title = "Harbour bridge closed after cargo ship collision, port says"
	savePoll(t, db, feed, es...)
	if after := kept(); after != before {
		t.Errorf("the edit moved kept_at from %v to %v: the next load makes the storyline resident again", time.UnixMilli(before).UTC(), time.UnixMilli(after).UTC())
	}
}
