package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// A story's picture is stored and read back, and one that appears later
// (as after the upgrade that began reading them) updates the entry once.
func testEntryImageStored(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	f := addFeed(t, db, "https://pics.example/feed")
	e := feeds.Entry{ID: "a", Link: "https://pics.example/a", Title: "Harbour reopens", Published: T0}
	poll := func(e feeds.Entry) store.SaveStats {
		t.Helper()
		st, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, Entries: []feeds.Entry{e}})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	poll(e)
	if st := poll(e); st.Unchanged != 1 {
		t.Fatalf("the same entry again: %+v", st)
	}
	e.Image = "https://img.example/a.jpg"
	if st := poll(e); st.Updated != 1 {
		t.Fatalf("the entry with an image: %+v, want it updated", st)
	}
	if st := poll(e); st.Unchanged != 1 {
		t.Fatalf("the entry with the same image: %+v", st)
	}
	es, err := db.Entries(ctx, store.EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Entry.Image != e.Image {
		t.Fatalf("stored %+v", es)
	}
}

// news is a handful of outlets' stories about two events and one apart,
// published an hour apart each, newest last.
func news(feedIDs []int64) []store.PollResult {
	stories := []struct {
		feed  int
		title string
		text  string
	}{
		{0, "Harbour bridge closed after storm damage", "The harbour bridge was closed after the storm damaged its cables."},
		{1, "Storm damage closes harbour bridge", "Engineers closed the harbour bridge after storm damage to its cables."},
		{2, "Harbour bridge stays closed after storm", "The harbour bridge stays closed while engineers inspect the storm damage."},
		{0, "Central bank raises interest rates again", "The central bank raised its interest rates for the third time this year."},
		{1, "Interest rates raised by central bank", "The central bank raised interest rates again to fight inflation."},
		{2, "Local choir wins national singing contest", "A village choir won the national contest with a folk song."},
	}
	rs := make([]store.PollResult, len(feedIDs))
	for i, id := range feedIDs {
		rs[i] = store.PollResult{FeedID: id, PolledAt: T0, Status: 200, Title: fmt.Sprint("Outlet ", i)}
	}
	for i, s := range stories {
		rs[s.feed].Entries = append(rs[s.feed].Entries, feeds.Entry{
			ID: fmt.Sprint("s", i), Link: fmt.Sprintf("https://news.example/%d", i),
			Title: s.title, Text: s.text, Language: "en",
			Published: T0.Add(time.Duration(i-len(stories)) * time.Hour)})
	}
	return rs
}

// storylines adds three outlets, saves the news of each and clusters it.
func storylines(t *testing.T, db Store) []int64 {
	t.Helper()
	var ids []int64
	for i := range 3 {
		ids = append(ids, addFeed(t, db, fmt.Sprintf("https://outlet%d.example/feed", i)).ID)
	}
	if _, err := SavePolls(context.Background(), db, news(ids)); err != nil {
		t.Fatal(err)
	}
	ClusterStories(t, db, false)
	return ids
}

func testEntriesQuery(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	ids := storylines(t, db)
	all, err := db.Entries(ctx, store.EntryQuery{})
	if err != nil || len(all) != 6 {
		t.Fatalf("entries: %d, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Entry.Published.After(all[i-1].Entry.Published) {
			t.Errorf("entries not newest first: %v after %v", all[i].Entry.Published, all[i-1].Entry.Published)
		}
	}
	e := all[0]
	if e.FeedID != ids[2] || e.FeedTitle != "Outlet 2" || e.FeedURL != "https://outlet2.example/feed" || e.Entry.ID != "s5" ||
		e.Entry.Link != "https://news.example/5" || e.Entry.Language != "en" || e.TopicID == 0 || e.TopicName == "" || !e.FirstSeen.Equal(T0) {
		t.Errorf("newest entry: %+v", e)
	}
	if got, err := db.Entry(ctx, e.ID); err != nil || !reflect.DeepEqual(got, e) {
		t.Errorf("Entry(%d) = %+v, %v; want %+v", e.ID, got, err, e)
	}
	byFeed, _ := db.Entries(ctx, store.EntryQuery{FeedID: ids[1]})
	since, _ := db.Entries(ctx, store.EntryQuery{Since: T0.Add(-2 * time.Hour)})
	limited, _ := db.Entries(ctx, store.EntryQuery{Limit: 4})
	byTopic, _ := db.Entries(ctx, store.EntryQuery{TopicID: all[5].TopicID})
	if len(byFeed) != 2 || len(since) != 2 || len(limited) != 4 || limited[3].ID != all[3].ID {
		t.Errorf("by feed %d, since %d, limited %d (last %d, want %d)", len(byFeed), len(since), len(limited), limited[3].ID, all[3].ID)
	}
	if len(byTopic) != 3 {
		t.Errorf("stories of the bridge storyline: %d, want 3", len(byTopic))
	}
}

func testSearch(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	storylines(t, db)
	for _, tc := range []struct {
		query string
		want  []string // entry IDs, in any order
	}{
		{"harbour", []string{"s0", "s1", "s2"}},
		{"HARBOUR bridge", []string{"s0", "s1", "s2"}},
		{"engineers", []string{"s1", "s2"}},
		{"choir folk", []string{"s5"}},
		{"choir harbour", nil},
		{`"bridge" AND OR NEAR( * inflation`, nil},
		{"inflation", []string{"s4"}},
	} {
		got, err := db.Search(ctx, tc.query, 0)
		if err != nil {
			t.Errorf("search %q: %v", tc.query, err)
			continue
		}
		var ids []string
		for _, e := range got {
			ids = append(ids, e.Entry.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, tc.want) {
			t.Errorf("search %q = %v, want %v", tc.query, ids, tc.want)
		}
	}
	// A match in the title ranks above one in the text alone.
	got, _ := db.Search(ctx, "closed", 0)
	if len(got) != 3 || got[2].Entry.ID != "s1" {
		t.Errorf("search closed: %d results, the last %+v; want s1, whose title does not say it, last", len(got), got[len(got)-1].Entry)
	}
	if got, _ := db.Search(ctx, "harbour", 2); len(got) != 2 {
		t.Errorf("limit 2: %d results", len(got))
	}
	if _, err := db.Search(ctx, "a\x00b", 0); err != nil {
		t.Errorf("search with a NUL: %v", err)
	}
	if _, err := db.Search(ctx, ` "" ,. `, 0); err == nil {
		t.Error("a search with no words did not fail")
	}
}

// Chinese and Japanese put no spaces between words: a search finds a word
// inside a headline or text, of one character or more, and an edited or
// removed story is found by its new words only, or not at all.
func testSearchChineseJapanese(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	f := addFeed(t, db, "https://asia.example/feed")
	entries := []feeds.Entry{
		{ID: "c1", Title: "国际会议在北京举行", Text: "各国代表讨论气候变化。", Language: "zh"},
		{ID: "c2", Title: "台风袭击广东沿海", Text: "气象台发布红色预警，北部湾航线停航。", Language: "zh"},
		{ID: "j1", Title: "東京で震度5弱の地震", Text: "気象庁によると、津波の心配はない。", Language: "ja"},
		{ID: "j2", Title: "新型iPhoneを発表", Text: "アップルは東京の店舗で販売を始める。", Language: "ja"},
		{ID: "e1", Title: "Harbour bridge reopens", Text: "Beijing and Tokyo are not mentioned in Chinese here.", Language: "en"},
		{ID: "j3", Title: "日欧ＦＴＡ交渉が妥結", Text: "ｶﾞｲﾄﾞﾗｲﾝは来月公表。", Language: "ja"},
	}
	poll := func(es []feeds.Entry) {
		t.Helper()
		for i := range es {
			es[i].Link = "https://asia.example/" + es[i].ID
			es[i].Published = T0.Add(time.Duration(i) * time.Minute)
		}
		if _, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, Entries: es}); err != nil {
			t.Fatal(err)
		}
	}
	poll(entries)
	check := func(query string, want ...string) {
		t.Helper()
		got, err := db.Search(ctx, query, 0)
		if err != nil {
			t.Errorf("search %q: %v", query, err)
			return
		}
		var ids []string
		for _, e := range got {
			ids = append(ids, e.Entry.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, want) {
			t.Errorf("search %q = %v, want %v", query, ids, want)
		}
	}
	check("北京", "c1")
	check("北京。", "c1") // punctuation typed with the word
	check("「北京」", "c1")
	check("会议", "c1")
	check("国际会议", "c1")
	check("台风 广东", "c2")
	check("气", "c1", "c2") // one character: 气候, 气象
	check("气象台", "c2")
	check("北部", "c2") // 北京 has 北, not 北部
	check("京都")       // neither word is there
	check("地震", "j1")
	check("東京", "j1", "j2")
	check("iPhone", "j2")
	check("新型iPhone", "j2")
	check("iPhone東京", "j2") // written as one word, the parts are found apart
	check("bridge", "e1")
	check("東京 bridge")
	// Full-width and half-width forms are one: typed either way, found
	// written either way.
	check("FTA", "j3")
	check("ＦＴＡ", "j3")
	check("fta交渉", "j3")
	check("ガイドライン", "j3")
	check("震度５弱", "j1")

	// An edit is found by its new words only; a removal by none.
	edited := entries[0]
	edited.Title = "国际会议在上海举行"
	poll([]feeds.Entry{edited})
	check("北京")
	check("上海", "c1")
	es, err := db.Entries(ctx, store.EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var gone []int64
	for _, e := range es {
		if e.Entry.ID == "c2" {
			gone = append(gone, e.ID)
		}
	}
	if err := db.WriteTx(ctx, func(tx store.Tx) error { _, err := tx.DeleteEntries(ctx, gone); return err }); err != nil {
		t.Fatal(err)
	}
	check("台风")
	check("气", "c1")
}

// A write transaction whose function fails keeps nothing of it, and the
// data version does not move.
func testWriteTxRollsBack(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	f := addFeed(t, db, "https://a.example/feed")
	v0, _ := db.DataVersion(ctx)
	refused := errors.New("refused by test")
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		if _, _, err := tx.SavePoll(ctx, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, Title: "New title", Entries: sampleEntries()}); err != nil {
			return err
		}
		docs, err := tx.PendingDocs(ctx, 10)
		if err != nil || len(docs) != 3 {
			return fmt.Errorf("pending inside the transaction: %d, %v", len(docs), err)
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("WriteTx = %v, want the function's error", err)
	}
	if es, _ := db.Entries(ctx, store.EntryQuery{}); len(es) != 0 {
		t.Errorf("%d entries kept from a failed transaction", len(es))
	}
	if got, _ := db.Feed(ctx, fmt.Sprint(f.ID)); got.Title != "" || !got.LastPolledAt.IsZero() {
		t.Errorf("feed after a failed transaction: %+v", got)
	}
	if v, _ := db.DataVersion(ctx); v != v0 {
		t.Errorf("data version %+v after a failed transaction, want %+v", v, v0)
	}
}

// The clustering's writes make storylines that the reads show whole: every
// story in one, sizes equal to their members, outlets counted.
func testStorylines(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	ids := storylines(t, db)
	all, _ := db.Entries(ctx, store.EntryQuery{})
	topicOf := map[string]int64{}
	for _, e := range all {
		if e.TopicID == 0 {
			t.Fatalf("story %s in no storyline", e.Entry.ID)
		}
		topicOf[e.Entry.ID] = e.TopicID
	}
	if topicOf["s0"] != topicOf["s1"] || topicOf["s0"] != topicOf["s2"] || topicOf["s3"] != topicOf["s4"] ||
		topicOf["s0"] == topicOf["s3"] || topicOf["s5"] == topicOf["s0"] || topicOf["s5"] == topicOf["s3"] {
		t.Fatalf("storylines %v; want the bridge, the rates and the choir apart", topicOf)
	}
	ts, err := db.Topics(ctx, store.TopicQuery{})
	if err != nil || len(ts) != 3 {
		t.Fatalf("topics: %+v, %v", ts, err)
	}
	var tids []int64
	for _, tp := range ts {
		members, _ := db.Entries(ctx, store.EntryQuery{TopicID: tp.ID})
		feedsOf := map[int64]bool{}
		first, last := members[0].Entry.Published, members[0].Entry.Published
		for _, m := range members {
			feedsOf[m.FeedID] = true
			first, last = minTime(first, m.Entry.Published), maxTime(last, m.Entry.Published)
		}
		if tp.Size != len(members) || tp.Stories != len(members) || tp.Outlets != len(feedsOf) || tp.Name == "" || tp.Headline == "" ||
			!tp.First.Equal(first) || !tp.Last.Equal(last) {
			t.Errorf("topic %+v; its %d members from %d outlets span %v to %v", tp, len(members), len(feedsOf), first, last)
		}
		if one, err := db.Topic(ctx, tp.ID); err != nil || one != tp {
			t.Errorf("Topic(%d) = %+v, %v; want %+v", tp.ID, one, err, tp)
		}
		tids = append(tids, tp.ID)
	}
	if big, _ := db.Topics(ctx, store.TopicQuery{MinSize: 2}); len(big) != 2 {
		t.Errorf("topics of 2 stories or more: %d, want 2", len(big))
	}
	if recent, _ := db.Topics(ctx, store.TopicQuery{Since: T0.Add(-90 * time.Minute)}); len(recent) != 1 {
		t.Errorf("topics with a story in the last 90 min: %d, want 1", len(recent))
	}
	if one, _ := db.Topics(ctx, store.TopicQuery{Limit: 1}); len(one) != 1 || one[0] != ts[0] {
		t.Errorf("the first topic: %+v, want %+v", one, ts[0])
	}
	if n, err := db.CountTopics(ctx, time.Time{}, 2); err != nil || n != 2 {
		t.Errorf("CountTopics(2) = %d, %v", n, err)
	}
	outlets, err := db.TopicOutlets(ctx, tids)
	if err != nil {
		t.Fatal(err)
	}
	bridge := outlets[topicOf["s0"]]
	if len(bridge) != 3 || bridge[0].Stories != 1 || bridge[0].FeedID != ids[0] || bridge[0].Title != "Outlet 0" {
		t.Errorf("outlets of the bridge storyline: %+v", bridge)
	}
	if _, err := db.Topic(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a missing topic: %v, want ErrNotFound", err)
	}
	if stored, stale, err := db.AnalyzerStale(ctx); err != nil || stale || stored != cluster.AnalyzerVersion {
		t.Errorf("AnalyzerStale = %d, %v, %v; want the current analyzer, not stale", stored, stale, err)
	}
}

// A storyline's stories count each article once: the copies of one link
// that an outlet's main and section feeds both carry are one story (as
// the served feeds fold them), while entries without a link, which
// nothing can tell apart, are one each. Size stays the clusterer's count
// of entries.
func testStoriesCountArticlesOnce(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	main := addFeed(t, db, "https://gazette.example/feed").ID
	section := addFeed(t, db, "https://gazette.example/politics/feed").ID
	bridge := feeds.Entry{ID: "bridge", Link: "https://gazette.example/bridge", Language: "en", Published: T0.Add(-3 * time.Hour),
		Title: "Harbour bridge closed after storm damage", Text: "The harbour bridge was closed after the storm damaged its cables."}
	bridge2 := feeds.Entry{ID: "bridge2", Link: "https://gazette.example/bridge-2", Language: "en", Published: T0.Add(-2 * time.Hour),
		Title: "Storm damage closes harbour bridge", Text: "Engineers closed the harbour bridge after storm damage to its cables."}
	choir := feeds.Entry{ID: "choir", Language: "en", Published: T0.Add(-time.Hour),
		Title: "Local choir wins national singing contest", Text: "A village choir won the national contest with a folk song."}
	copyOf := func(e feeds.Entry) feeds.Entry {
		e.ID += "-copy" // a feed's own guid; the link is the article's
		return e
	}
	_, err := SavePolls(ctx, db, []store.PollResult{
		{FeedID: main, PolledAt: T0, Status: 200, Title: "Local Gazette", Entries: []feeds.Entry{bridge, bridge2, choir}},
		{FeedID: section, PolledAt: T0, Status: 200, Title: "Local Gazette", Entries: []feeds.Entry{copyOf(bridge), copyOf(choir)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ClusterStories(t, db, false)
	all, _ := db.Entries(ctx, store.EntryQuery{})
	topicOf := map[string]int64{}
	for _, e := range all {
		topicOf[e.Entry.ID] = e.TopicID
	}
	if topicOf["bridge"] == 0 || topicOf["bridge"] != topicOf["bridge2"] || topicOf["bridge"] != topicOf["bridge-copy"] ||
		topicOf["choir"] == 0 || topicOf["choir"] != topicOf["choir-copy"] || topicOf["choir"] == topicOf["bridge"] {
		t.Fatalf("storylines %v; want the bridge's three entries in one, the choir's two in another", topicOf)
	}
	// The two feeds have one name: one outlet.
	want := map[int64][3]int{ // size, stories, outlets
		topicOf["bridge"]: {3, 2, 1},
		topicOf["choir"]:  {2, 2, 1},
	}
	ts, err := db.Topics(ctx, store.TopicQuery{})
	if err != nil || len(ts) != 2 {
		t.Fatalf("topics: %+v, %v", ts, err)
	}
	for _, tp := range ts {
		if got := [3]int{tp.Size, tp.Stories, tp.Outlets}; got != want[tp.ID] {
			t.Errorf("Topics: topic %d has size, stories, outlets %v, want %v", tp.ID, got, want[tp.ID])
		}
		if one, err := db.Topic(ctx, tp.ID); err != nil || one != tp {
			t.Errorf("Topic(%d) = %+v, %v; want %+v", tp.ID, one, err, tp)
		}
	}
	outlets, err := db.TopicOutlets(ctx, []int64{topicOf["bridge"], topicOf["choir"]})
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[int64][]store.OutletCount{
		topicOf["bridge"]: {{FeedID: main, Title: "Local Gazette", Stories: 2}},
		topicOf["choir"]:  {{FeedID: main, Title: "Local Gazette", Stories: 2}},
	} {
		if got := outlets[topic]; !reflect.DeepEqual(got, want) {
			t.Errorf("TopicOutlets of topic %d = %+v, want %+v", topic, got, want)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// What the clustering saved is what it loads again: counters, document
// frequencies, topic states; and each clustering write moves the
// generation on.
func testClusterStateRoundTrip(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	var gen0 int64
	if err := db.WriteTx(ctx, func(tx store.Tx) error {
		var err error
		gen0, err = tx.ClusterGeneration(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	storylines(t, db)
	cfg := cluster.DefaultConfig()
	var merged [2]int64
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		gen, err := tx.ClusterGeneration(ctx)
		if err != nil {
			return err
		}
		if gen == gen0 {
			t.Errorf("generation %d did not move with a clustering", gen)
		}
		st, err := tx.LoadClusterState(ctx, cfg.Window+cfg.History)
		if err != nil {
			return err
		}
		if st.Docs != 6 || st.LastTopicID < 3 || len(st.Topics) != 3 || !st.Clock.Equal(T0.Add(-time.Hour)) {
			t.Errorf("state: %d docs, last topic %d, %d topics, clock %v", st.Docs, st.LastTopicID, len(st.Topics), st.Clock)
		}
		// The document frequencies are those of the six stories, as a
		// clusterer of its own counts them.
		all, err := tx.AllDocs(ctx)
		if err != nil {
			return err
		}
		counter, want := cluster.New(cfg, &cluster.State{}), map[string]int64{}
		for _, d := range all {
			for _, term := range counter.Count(d) {
				want[term]++
			}
		}
		if len(want) == 0 || !maps.Equal(st.DocFreq, want) {
			t.Errorf("document frequencies %v, want %v", st.DocFreq, want)
		}
		for _, ts := range st.Topics {
			docs, err := tx.TopicDocs(ctx, ts.ID)
			if err != nil {
				return err
			}
			if len(docs) != ts.Size || len(ts.Terms) == 0 {
				t.Errorf("topic %d: size %d, %d stories, %d terms", ts.ID, ts.Size, len(docs), len(ts.Terms))
			}
			for _, d := range docs {
				id, _ := strconv.ParseInt(d.ID, 10, 64)
				if got, ok, err := tx.TopicOf(ctx, id); err != nil || !ok || got != ts.ID {
					t.Errorf("TopicOf(%d) = %d, %v, %v; want %d", id, got, ok, err, ts.ID)
				}
			}
		}
		if n, err := tx.TopicCount(ctx); err != nil || n != 3 {
			t.Errorf("TopicCount = %d, %v", n, err)
		}
		if docs, err := tx.PendingDocs(ctx, math.MaxInt32); err != nil || len(docs) != 0 {
			t.Errorf("pending after clustering: %d, %v", len(docs), err)
		}
		if docs, err := tx.AllDocs(ctx); err != nil || len(docs) != 6 {
			t.Errorf("all docs: %d, %v", len(docs), err)
		}
		// A merge moves the members and leaves the old ID leading on.
		from, to := st.Topics[0].ID, st.Topics[1].ID
		merged = [2]int64{from, to}
		if err := tx.MergeTopic(ctx, from, to); err != nil {
			return err
		}
		ts := st.Topics[1]
		ts.Size += st.Topics[0].Size
		if err := tx.SaveTopic(ctx, ts); err != nil {
			return err
		}
		_, err = tx.SaveClusterCounters(ctx, store.ClusterCounters{LastTopicID: st.LastTopicID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := db.Topics(ctx, store.TopicQuery{})
	if len(ts) != 2 {
		t.Fatalf("%d topics after a merge, want 2", len(ts))
	}
	if to, err := db.TopicMovedTo(ctx, merged[0]); err != nil || to != merged[1] {
		t.Errorf("TopicMovedTo(%d) = %d, %v after a merge into %d", merged[0], to, err, merged[1])
	}
	for _, tp := range ts {
		members, _ := db.Entries(ctx, store.EntryQuery{TopicID: tp.ID})
		if tp.Size != len(members) {
			t.Errorf("topic %d: size %d, %d members", tp.ID, tp.Size, len(members))
		}
	}
}

// A recluster from scratch numbers its topics after the old ones, and
// every old ID leads to the new topic holding most of its stories.
func testReclusterKeepsTopicIDs(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	storylines(t, db)
	before, _ := db.Entries(ctx, store.EntryQuery{})
	ClusterStories(t, db, true)
	after, _ := db.Entries(ctx, store.EntryQuery{})
	if len(after) != len(before) {
		t.Fatalf("%d stories after a recluster, %d before", len(after), len(before))
	}
	for i := range after {
		old, now := before[i].TopicID, after[i].TopicID
		if now <= old {
			t.Errorf("story %s: topic %d after a recluster, %d before; want a new ID", after[i].Entry.ID, now, old)
		}
		if to, err := db.TopicMovedTo(ctx, old); err != nil || to != now {
			t.Errorf("TopicMovedTo(%d) = %d, %v; want %d", old, to, err, now)
		}
		if _, err := db.Topic(ctx, old); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old topic %d still there: %v", old, err)
		}
	}
	if _, err := db.TopicMovedTo(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TopicMovedTo of an ID never handed out: %v, want ErrNotFound", err)
	}
}

// An edit to a clustered story is handed back by SavePoll with the words
// the clustering counted and the ones stored now, so that the pipeline
// can take the one out and put the other in.
func testEditOfAClusteredStory(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	ids := storylines(t, db)
	rs := news(ids)
	r := rs[2]
	r.Entries[0].Title = "Harbour bridge reopens after storm repairs"
	var edits []store.Edit
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		st, e, err := tx.SavePoll(ctx, r)
		if err != nil {
			return err
		}
		if st.Updated != 1 || st.Unchanged != 1 {
			t.Errorf("stats %+v", st)
		}
		edits = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) != 1 {
		t.Fatalf("edits %+v, want one", edits)
	}
	e := edits[0]
	if e.Was.Title != "Harbour bridge stays closed after storm" || e.Now.Title != "Harbour bridge reopens after storm repairs" ||
		e.Was.ID != strconv.FormatInt(e.EntryID, 10) || e.Now.ID != e.Was.ID {
		t.Errorf("edit %+v", e)
	}
	// A title-only change of the feed, and an unchanged story, hand back
	// nothing.
	r.Title = "Outlet 2, renamed"
	err = db.WriteTx(ctx, func(tx store.Tx) error {
		_, e, err := tx.SavePoll(ctx, r)
		if len(e) != 0 {
			t.Errorf("edits for an unchanged document: %+v", e)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Deleting entries hands back the clustered ones with their topics, for
// the pipeline to take them out of the clustering.
func testDeleteEntries(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	ids := storylines(t, db)
	all, _ := db.Entries(ctx, store.EntryQuery{})
	// One more story, not clustered yet.
	extra := store.PollResult{FeedID: ids[0], PolledAt: T0, Status: 200, Entries: []feeds.Entry{
		{ID: "late", Title: "Ferry timetable changes", Published: T0}}}
	if _, err := SavePoll(ctx, db, extra); err != nil {
		t.Fatal(err)
	}
	fresh, _ := db.Entries(ctx, store.EntryQuery{Limit: 1})
	var removed store.Removed
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		var err error
		removed, err = tx.DeleteEntries(ctx, []int64{all[0].ID, all[1].ID, fresh[0].ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed.Stories) != 2 || removed.Stories[0].ID != strconv.FormatInt(all[1].ID, 10) {
		t.Errorf("removed stories %+v; want the two clustered ones, oldest first", removed.Stories)
	}
	wantTopics := []int64{all[0].TopicID, all[1].TopicID}
	slices.Sort(wantTopics)
	wantTopics = slices.Compact(wantTopics)
	got := slices.Clone(removed.Topics)
	slices.Sort(got)
	if !slices.Equal(got, wantTopics) {
		t.Errorf("removed topics %v, want %v", got, wantTopics)
	}
	if left, _ := db.Entries(ctx, store.EntryQuery{}); len(left) != 4 {
		t.Errorf("%d entries left, want 4", len(left))
	}
}

// Retention picks stories older than its age, and beyond the newest of
// each feed.
func testPruneCandidates(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	storylines(t, db)
	all, _ := db.Entries(ctx, store.EntryQuery{})
	idOf := map[string]int64{}
	for _, e := range all {
		idOf[e.Entry.ID] = e.ID
	}
	for _, tc := range []struct {
		r    store.Retention
		want []string
	}{
		{store.Retention{}, nil},
		{store.Retention{MaxAge: 4*time.Hour + time.Minute}, []string{"s0", "s1"}},
		{store.Retention{MaxPerFeed: 1}, []string{"s0", "s1", "s2"}},
		{store.Retention{MaxAge: 5*time.Hour + 30*time.Minute, MaxPerFeed: 1}, []string{"s0", "s1", "s2"}},
	} {
		got, err := db.PruneCandidates(ctx, tc.r)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, s := range tc.want {
			want = append(want, idOf[s])
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("PruneCandidates(%+v) = %v, want %v (%v)", tc.r, got, want, tc.want)
		}
	}
}

// The memberships a transaction records apply in the order it records
// them, however a backend defers them: a story joined to a topic that is
// then merged, another joined after, and the first moved on again.
func testWritesInOrder(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	f := addFeed(t, db, "https://a.example/feed")
	if _, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, Entries: []feeds.Entry{
		{ID: "1", Title: "one", Published: T0}, {ID: "2", Title: "two", Published: T0.Add(time.Minute)}}}); err != nil {
		t.Fatal(err)
	}
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		docs, err := tx.PendingDocs(ctx, 10)
		if err != nil || len(docs) != 2 {
			return fmt.Errorf("pending: %d, %v", len(docs), err)
		}
		e1, _ := store.EntryID(docs[0].ID)
		e2, _ := store.EntryID(docs[1].ID)
		topic := func(id int64) cluster.TopicState { return cluster.TopicState{ID: id, Size: 1, First: T0, Last: T0} }
		for _, step := range []func() error{
			func() error { return tx.Join(ctx, e1, 1) },
			func() error { return tx.MarkClustered(ctx, e1) },
			func() error { return tx.SaveTopic(ctx, topic(1)) },
			func() error { return tx.SaveTopic(ctx, topic(2)) },
			func() error { return tx.MergeTopic(ctx, 1, 2) },
			func() error { return tx.Join(ctx, e2, 2) },
			func() error { return tx.MarkClustered(ctx, e2) },
			func() error { return tx.SaveTopic(ctx, topic(3)) },
			func() error { return tx.MoveEntries(ctx, []int64{e1}, 3) },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		if got, ok, err := tx.TopicOf(ctx, e1); err != nil || !ok || got != 3 {
			return fmt.Errorf("TopicOf(first story) = %d, %v, %v inside the transaction; want 3", got, ok, err)
		}
		_, err = tx.SaveClusterCounters(ctx, store.ClusterCounters{Docs: 2, LastTopicID: 3, Clock: T0})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	es, _ := db.Entries(ctx, store.EntryQuery{})
	topics := map[string]int64{}
	for _, e := range es {
		topics[e.Entry.ID] = e.TopicID
	}
	if topics["1"] != 3 || topics["2"] != 2 {
		t.Errorf("stories in topics %v; want 1 in 3 and 2 in 2", topics)
	}
	if to, err := db.TopicMovedTo(ctx, 1); err != nil || to != 2 {
		t.Errorf("TopicMovedTo(1) = %d, %v; want 2", to, err)
	}
}

// DeleteFeed hands back the feed's clustered stories and their topics,
// not its pending ones.
func testDeleteFeed(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	ids := storylines(t, db)
	if _, err := SavePoll(ctx, db, store.PollResult{FeedID: ids[2], PolledAt: T0, Status: 200, Entries: []feeds.Entry{
		{ID: "late", Title: "Ferry timetable changes", Published: T0}}}); err != nil {
		t.Fatal(err)
	}
	mine, _ := db.Entries(ctx, store.EntryQuery{FeedID: ids[2]})
	var removed store.Removed
	err := db.WriteTx(ctx, func(tx store.Tx) error {
		var err error
		removed, err = tx.DeleteFeed(ctx, ids[2])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var wantTopics []int64
	for _, e := range mine {
		if e.TopicID != 0 {
			wantTopics = append(wantTopics, e.TopicID)
		}
	}
	slices.Sort(wantTopics)
	got := slices.Clone(removed.Topics)
	slices.Sort(got)
	if len(removed.Stories) != 2 || !slices.Equal(got, slices.Compact(wantTopics)) {
		t.Errorf("removed %d stories in topics %v; want the feed's 2 clustered ones, in %v", len(removed.Stories), got, wantTopics)
	}
	if _, err := db.Feed(ctx, fmt.Sprint(ids[2])); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the feed after DeleteFeed: %v", err)
	}
}
