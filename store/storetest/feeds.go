package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

func testAddRemoveFeed(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	f := addFeed(t, db, "https://a.example/feed")
	if f.ID == 0 || !f.NextPollAt.Equal(T0) || !f.CreatedAt.Equal(T0) {
		t.Fatalf("new feed = %+v; want an ID, created and due now", f)
	}
	if _, err := db.AddFeed(ctx, store.NewFeed{URL: "https://a.example/feed"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second add: %v, want ErrExists", err)
	}
	if _, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, NextPollAt: T0.Add(time.Hour),
		Entries: []feeds.Entry{{ID: "1", Title: "One", Published: T0}}}); err != nil {
		t.Fatal(err)
	}
	if fl, err := db.Feeds(ctx); err != nil || len(fl) != 1 || fl[0].EntryCount != 1 {
		t.Fatalf("feeds = %+v, %v; want one with one entry", fl, err)
	}
	if _, err := RemoveFeed(ctx, db, "https://a.example/feed"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Feed(ctx, fmt.Sprint(f.ID)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("feed after remove: %v, want ErrNotFound", err)
	}
	es, _ := db.Entries(ctx, store.EntryQuery{})
	if len(es) != 0 {
		t.Errorf("%d entries left after removing their feed", len(es))
	}
	if _, err := RemoveFeed(ctx, db, "42"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("remove missing: %v, want ErrNotFound", err)
	}
	if _, err := db.Entry(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("entry of a removed feed: %v, want ErrNotFound", err)
	}
}

// AddFeeds takes a stream (an OPML file read as it goes): it counts what
// it added and what was there, and a stream that fails part way adds
// nothing, so that the import can be run again as it is.
func testAddFeedsStreamed(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	addFeed(t, db, "https://b.example/feed")
	list := func(fail bool) iter.Seq2[store.NewFeed, error] {
		return func(yield func(store.NewFeed, error) bool) {
			for i, u := range []string{"https://a.example/feed", "https://b.example/feed", "https://c.example/feed"} {
				if fail && i == 2 {
					yield(store.NewFeed{}, errors.New("broken outline"))
					return
				}
				if !yield(store.NewFeed{URL: u, Title: "Title " + u}, nil) {
					return
				}
			}
		}
	}
	added, existing, err := db.AddFeeds(ctx, list(true))
	if err == nil {
		t.Fatal("AddFeeds ignored the stream's error")
	}
	if fl, _ := db.Feeds(ctx); len(fl) != 1 {
		t.Fatalf("after a failed stream: %d feeds (added %d, existing %d), want the one there before", len(fl), added, existing)
	}
	added, existing, err = db.AddFeeds(ctx, list(false))
	if err != nil || added != 2 || existing != 1 {
		t.Fatalf("AddFeeds = %d added, %d existing, %v; want 2, 1", added, existing, err)
	}
	fl, _ := db.Feeds(ctx)
	if len(fl) != 3 || fl[2].URL != "https://c.example/feed" || fl[2].UserTitle != "Title https://c.example/feed" {
		t.Errorf("feeds = %+v", fl)
	}
}

func testMoveFeed(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	a := addFeed(t, db, "https://a.example/feed")
	b := addFeed(t, db, "https://b.example/feed")
	if err := db.MoveFeed(ctx, a.ID, "https://a.example/moved"); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Feed(ctx, "https://a.example/moved"); err != nil || got.ID != a.ID {
		t.Errorf("feed at the new URL: %+v, %v", got, err)
	}
	if err := db.MoveFeed(ctx, a.ID, b.URL); !errors.Is(err, store.ErrExists) {
		t.Errorf("move onto a subscribed URL: %v, want ErrExists", err)
	}
	if err := db.MoveFeed(ctx, 99, "https://z.example/"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("move of a missing feed: %v, want ErrNotFound", err)
	}
}

func sampleEntries() []feeds.Entry {
	return []feeds.Entry{
		{ID: "a", Link: "https://a.example/1", Title: "First", Text: "one", Published: T0.Add(-2 * time.Hour), Categories: []string{"x"}},
		{ID: "b", Link: "https://a.example/2", Title: "Second", Text: "two", Published: T0.Add(-time.Hour)},
		{ID: "c", Link: "https://a.example/3", Title: "Undated", Text: "three", Published: T0, Undated: true},
	}
}

func testSavePollIdempotent(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	f := addFeed(t, db, "https://a.example/feed")
	r := store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, ETag: `"v1"`, NextPollAt: T0.Add(time.Hour), Entries: sampleEntries()}
	st, err := SavePoll(ctx, db, r)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 3 || st.Updated != 0 {
		t.Fatalf("first save: %+v, want 3 new", st)
	}
	before, _ := db.Entries(ctx, store.EntryQuery{})
	if len(before) != 3 || before[0].Entry.Title != "Undated" || len(before[2].Entry.Categories) != 1 {
		t.Fatalf("stored: %+v; want 3, newest first, with their categories", before)
	}

	// The same document, an hour later: the undated entry gets a new
	// made-up time from the parser but must not count as changed.
	r2 := r
	r2.PolledAt = T0.Add(time.Hour)
	r2.Entries = sampleEntries()
	r2.Entries[2].Published = r2.PolledAt
	st, err = SavePoll(ctx, db, r2)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 0 || st.Updated != 0 || st.Unchanged != 3 {
		t.Fatalf("re-save: %+v, want 3 unchanged", st)
	}
	after, _ := db.Entries(ctx, store.EntryQuery{})
	if len(after) != len(before) {
		t.Fatalf("rows: %d then %d", len(before), len(after))
	}
	for i := range before {
		if before[i].ID != after[i].ID || !before[i].Entry.Published.Equal(after[i].Entry.Published) {
			t.Errorf("row %d changed: %+v -> %+v", i, before[i], after[i])
		}
	}

	// One entry edited: only that row changes, in place.
	r3 := r2
	r3.Entries = sampleEntries()
	r3.Entries[1].Text = "two, corrected"
	r3.Entries[1].Title = "Second (corrected)"
	st, err = SavePoll(ctx, db, r3)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 0 || st.Updated != 1 || st.Unchanged != 2 {
		t.Fatalf("edit: %+v, want 1 updated, 2 unchanged", st)
	}
	edited, _ := db.Entries(ctx, store.EntryQuery{})
	if len(edited) != 3 {
		t.Fatalf("%d rows after edit", len(edited))
	}
	for i := range edited {
		want := before[i].Entry.Title
		if edited[i].Entry.ID == "b" {
			want = "Second (corrected)"
		}
		if edited[i].ID != before[i].ID || edited[i].Entry.Title != want {
			t.Errorf("row %d: id %d title %q, want id %d title %q", i, edited[i].ID, edited[i].Entry.Title, before[i].ID, want)
		}
		// An edit the feed gives no date for is dated by the poll that
		// saw it, so that readers see the story change.
		if edited[i].Entry.ID == "b" && !edited[i].Entry.Updated.Equal(r3.PolledAt) {
			t.Errorf("the edited entry is updated %v, want %v (the poll)", edited[i].Entry.Updated, r3.PolledAt)
		}
		if edited[i].Entry.ID != "b" && !edited[i].Entry.Updated.Equal(before[i].Entry.Updated) {
			t.Errorf("row %d, not edited, is updated %v, was %v", i, edited[i].Entry.Updated, before[i].Entry.Updated)
		}
	}
	got, _ := db.Feed(ctx, fmt.Sprint(f.ID))
	if got.ETag != `"v1"` || got.LastStatus != 200 || got.EntryCount != 0 || !got.LastPolledAt.Equal(r3.PolledAt) {
		// EntryCount is only filled by Feeds.
		t.Errorf("feed after polls: %+v", got)
	}
}

func testSavePollDuplicateIDs(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	f := addFeed(t, db, "https://a.example/feed")
	es := []feeds.Entry{{ID: "x", Title: "old", Published: T0}, {ID: "x", Title: "new", Published: T0}}
	st, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, Entries: es})
	if err != nil || st.New != 1 {
		t.Fatalf("save = %+v, %v; want 1 new", st, err)
	}
	got, _ := db.Entries(ctx, store.EntryQuery{})
	if len(got) != 1 || got[0].Entry.Title != "new" {
		t.Errorf("entries = %+v", got)
	}
}

func testSavePollFeedState(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	f := addFeed(t, db, "http://a.example/old")
	other := addFeed(t, db, "http://a.example/taken")
	id := fmt.Sprint(f.ID)

	// A permanent redirect moves the feed; the feed's own title, link,
	// language and TTL are kept.
	if _, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, NewURL: "https://a.example/new",
		Title: "A news", SiteLink: "https://a.example/", Language: "en", TTL: 30 * time.Minute,
		ETag: `"e"`, LastModified: "Thu, 26 Nov 2026 11:00:00 GMT", NextPollAt: T0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Feed(ctx, id)
	if got.URL != "https://a.example/new" || got.Title != "A news" || got.SiteLink != "https://a.example/" || got.Language != "en" ||
		got.TTL != 30*time.Minute || got.LastModified != "Thu, 26 Nov 2026 11:00:00 GMT" || !got.NextPollAt.Equal(T0.Add(time.Hour)) {
		t.Errorf("feed after a poll with a permanent redirect: %+v", got)
	}
	// ...unless another subscription has that URL already.
	st, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, NewURL: other.URL})
	if err != nil || !st.URLConflict {
		t.Fatalf("redirect onto a taken URL: %+v, %v", st, err)
	}
	// Errors are recorded and disable with a reason.
	if _, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 410, Err: "gone", Errors: 1,
		DisableReason: "410 Gone", NextPollAt: T0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Feed(ctx, id)
	if !got.Disabled || got.DisabledReason != "410 Gone" || got.Errors != 1 || got.LastError != "gone" || got.LastStatus != 410 {
		t.Errorf("feed after 410: %+v", got)
	}
	for _, all := range []bool{false, true} {
		due, _ := db.DueFeeds(ctx, T0.Add(48*time.Hour), all)
		for _, d := range due {
			if d.ID == f.ID {
				t.Errorf("a disabled feed is due (all=%v)", all)
			}
		}
	}
}

// DueFeeds lists the enabled feeds due by a time, most overdue first;
// NextPollAt is the earliest time one is due.
func testDueFeedsOrder(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	if next, err := db.NextPollAt(ctx); err != nil || !next.IsZero() {
		t.Fatalf("NextPollAt with no feeds = %v, %v; want zero", next, err)
	}
	var ids []int64
	for i, at := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour} {
		f := addFeed(t, db, fmt.Sprintf("https://%c.example/feed", 'a'+i))
		ids = append(ids, f.ID)
		if _, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 304, NotModified: true, NextPollAt: T0.Add(at)}); err != nil {
			t.Fatal(err)
		}
	}
	if next, err := db.NextPollAt(ctx); err != nil || !next.Equal(T0.Add(time.Hour)) {
		t.Errorf("NextPollAt = %v, %v; want %v", next, err, T0.Add(time.Hour))
	}
	due, err := db.DueFeeds(ctx, T0.Add(2*time.Hour), false)
	if err != nil || len(due) != 2 || due[0].ID != ids[1] || due[1].ID != ids[2] {
		t.Errorf("due at +2h: %+v, %v; want feeds %d, %d", due, err, ids[1], ids[2])
	}
	if all, _ := db.DueFeeds(ctx, T0, true); len(all) != 3 {
		t.Errorf("all enabled: %d feeds, want 3", len(all))
	}
}

func testDataVersion(t *testing.T, open Open) {
	ctx := context.Background()
	db, now := openAt(t, open)
	// A backend may answer from memory for a while (a second, by its
	// clock): each read comes later than that, so that what is read is
	// what is stored.
	read := func() store.DataVersion {
		t.Helper()
		*now = now.Add(2 * time.Second)
		v, err := db.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	save := func(r store.PollResult) {
		t.Helper()
		if _, err := SavePoll(ctx, db, r); err != nil {
			t.Fatal(err)
		}
	}
	f := addFeed(t, db, "https://a.example/feed")
	v0 := read()
	r := store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, Title: "A", Entries: sampleEntries()}
	wrote := *now
	save(r)
	v1 := read()
	if v1.Version == v0.Version || !v1.Changed.Equal(wrote) {
		t.Fatalf("new entries did not change the data version: %+v then %+v (written at %v)", v0, v1, wrote)
	}
	// The same document again, or a 304, changes nothing a reader sees.
	save(r)
	save(store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 304, NotModified: true})
	if v2 := read(); v2.Version != v1.Version {
		t.Errorf("unchanged polls moved the data version %d -> %d", v1.Version, v2.Version)
	}
	r.Title = "A, renamed"
	save(r)
	v3 := read()
	if v3.Version == v1.Version {
		t.Error("a new feed title did not change the data version")
	}
	ClusterStories(t, db, false)
	v4 := read()
	if v4.Version == v3.Version {
		t.Error("new storylines did not change the data version")
	}
	if _, err := RemoveFeed(ctx, db, fmt.Sprint(f.ID)); err != nil {
		t.Fatal(err)
	}
	if v5 := read(); v5.Version == v4.Version {
		t.Error("removing a feed did not change the data version")
	}
}

// A feed that moved with a permanent redirect is still the feed subscribed
// with its old URL: adding that URL again (as the config does on every
// start) must not subscribe it twice.
func testAddFeedAfterRedirect(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	f := addFeed(t, db, "http://a.example/old")
	if _, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: T0, Status: 200, NewURL: "https://a.example/new"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.AddFeed(ctx, store.NewFeed{URL: "http://a.example/old"})
	if !errors.Is(err, store.ErrExists) || got.ID != f.ID || got.URL != "https://a.example/new" {
		t.Fatalf("re-adding the old URL: %+v, %v", got, err)
	}
	if fl, _ := db.Feeds(ctx); len(fl) != 1 {
		t.Errorf("%d feeds", len(fl))
	}
}

// A feed removed while it was being polled is skipped; the other results
// of the batch are saved.
func testSavePollsFeedRemoved(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	a := addFeed(t, db, "https://a.example/feed")
	b := addFeed(t, db, "https://b.example/feed")
	if _, err := RemoveFeed(ctx, db, fmt.Sprint(a.ID)); err != nil {
		t.Fatal(err)
	}
	st, err := SavePolls(ctx, db, []store.PollResult{
		{FeedID: a.ID, PolledAt: T0, Status: 200, Entries: sampleEntries()},
		{FeedID: b.ID, PolledAt: T0, Status: 200, Entries: sampleEntries()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !st[0].FeedGone || st[1].New != 3 {
		t.Errorf("stats %+v", st)
	}
}

func testSyncFeeds(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	cfg := []store.NewFeed{{URL: "http://a.example/old", Title: "A"}, {URL: "https://b.example/feed", Interval: time.Hour}}
	if n, err := db.SyncFeeds(ctx, cfg); err != nil || n != 2 {
		t.Fatalf("first sync: %d, %v", n, err)
	}
	fl, _ := db.Feeds(ctx)
	// The first feed moves (301); the config still names the old URL.
	if _, err := SavePoll(ctx, db, store.PollResult{FeedID: fl[0].ID, PolledAt: T0, Status: 200, NewURL: "https://a.example/new"}); err != nil {
		t.Fatal(err)
	}
	v0, _ := db.DataVersion(ctx)
	if n, err := db.SyncFeeds(ctx, cfg); err != nil || n != 0 {
		t.Fatalf("unchanged sync: %d, %v", n, err)
	}
	if v, _ := db.DataVersion(ctx); v.Version != v0.Version {
		t.Error("an unchanged sync wrote")
	}
	cfg[1].Title = "B, renamed"
	if n, err := db.SyncFeeds(ctx, cfg); err != nil || n != 0 {
		t.Fatalf("rename: %d, %v", n, err)
	}
	fl, _ = db.Feeds(ctx)
	if len(fl) != 2 || fl[0].URL != "https://a.example/new" || fl[1].Title != "B, renamed" || fl[1].Interval != time.Hour {
		t.Errorf("feeds after sync: %+v", fl)
	}
	if v, _ := db.DataVersion(ctx); v.Version == v0.Version {
		t.Error("a renamed feed did not change the data version")
	}
}

// A feed added with credentials is listed, found and moved by its public
// URL, fetched with the credentials, and a token given again later
// replaces the stored one.
func testFeedCredentialsKeptApart(t *testing.T, open Open) {
	ctx := context.Background()
	db, _ := openAt(t, open)
	f, err := db.AddFeed(ctx, store.NewFeed{URL: "https://bob:hunter22@example.org/feed?lang=en&token=old-token"})
	if err != nil {
		t.Fatal(err)
	}
	if f.URL != "https://example.org/feed?lang=en" || f.FetchURL() != "https://bob:hunter22@example.org/feed?lang=en&token=old-token" {
		t.Fatalf("URL %q, FetchURL %q", f.URL, f.FetchURL())
	}
	// The same subscription with a new token: not a second feed.
	if _, err := db.AddFeed(ctx, store.NewFeed{URL: "https://bob:hunter22@example.org/feed?lang=en&token=new-token"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second add: %v, want ErrExists", err)
	}
	got, err := db.Feed(ctx, "https://example.org/feed?lang=en&token=typed-again")
	if err != nil {
		t.Fatal(err)
	}
	if got.FetchURL() != "https://bob:hunter22@example.org/feed?lang=en&token=new-token" {
		t.Errorf("after a second add the fetch URL is %q", got.FetchURL())
	}
	// A permanent redirect on the same host keeps them; the error of a
	// poll is stored without them.
	id := fmt.Sprint(f.ID)
	if _, err := SavePolls(ctx, db, []store.PollResult{{FeedID: f.ID, PolledAt: T0, Status: 500,
		NewURL: "https://example.org/v2/feed?lang=en",
		Err:    "fetch https://bob:hunter22@example.org/feed?lang=en&token=new-token: 500", Errors: 1}}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Feed(ctx, id)
	if got.URL != "https://example.org/v2/feed?lang=en" || got.FetchURL() != "https://bob:hunter22@example.org/v2/feed?lang=en&token=new-token" {
		t.Errorf("after a redirect: URL %q, FetchURL %q", got.URL, got.FetchURL())
	}
	if got.LastError != "fetch https://example.org/feed?lang=en: 500" {
		t.Errorf("stored error %q", got.LastError)
	}
	// To another host they are not handed on.
	if _, err := SavePolls(ctx, db, []store.PollResult{{FeedID: f.ID, PolledAt: T0, Status: 200,
		NewURL: "https://cdn.example.net/feed"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.Feed(ctx, id); got.FetchURL() != "https://cdn.example.net/feed" {
		t.Errorf("after a redirect to another host the fetch URL is %q", got.FetchURL())
	}
}

// testUpdateFeed: a subscription's title and interval change on their
// own, a title change is a change of what is served, and a feed disabled
// by a 410 is enabled again, due at once, with its errors cleared.
func testUpdateFeed(t *testing.T, open Open) {
	ctx := context.Background()
	db, now := openAt(t, open)
	f := addFeed(t, db, "https://a.example/feed")
	*now = T0.Add(time.Hour)
	if _, err := SavePoll(ctx, db, store.PollResult{FeedID: f.ID, PolledAt: *now, Status: 410, NextPollAt: now.Add(time.Hour),
		Err: "410 Gone", DisableReason: "410 Gone: the publisher removed this feed"}); err != nil {
		t.Fatal(err)
	}
	if g, _ := db.Feed(ctx, fmt.Sprint(f.ID)); !g.Disabled {
		t.Fatalf("feed after a 410 = %+v, want disabled", g)
	}
	v0, _ := db.DataVersion(ctx)
	title, interval := "Mine", 2*time.Hour
	g, err := db.UpdateFeed(ctx, f.ID, store.FeedUpdate{Title: &title, Interval: &interval})
	if err != nil {
		t.Fatal(err)
	}
	if g.Title != "Mine" || g.UserTitle != "Mine" || g.Interval != interval || !g.Disabled {
		t.Errorf("after a title and interval update: %+v, want them set and the feed still disabled", g)
	}
	if v1, _ := db.DataVersion(ctx); v1.Version == v0.Version {
		t.Errorf("data version %d unchanged by a new title", v1.Version)
	}
	*now = T0.Add(2 * time.Hour)
	g, err = db.UpdateFeed(ctx, f.ID, store.FeedUpdate{Enable: true})
	if err != nil {
		t.Fatal(err)
	}
	if g.Disabled || g.DisabledReason != "" || g.Errors != 0 || !g.NextPollAt.Equal(*now) || g.Title != "Mine" || g.Interval != interval {
		t.Errorf("after enabling: %+v, want enabled, no errors, due now, title and interval kept", g)
	}
	due, err := db.DueFeeds(ctx, *now, false)
	if err != nil || len(due) != 1 || due[0].ID != f.ID {
		t.Errorf("due feeds after enabling: %+v, %v; want the feed", due, err)
	}
	// An interval is not served, and enabling an enabled feed changes
	// nothing: neither moves the data version or the next poll.
	v2, _ := db.DataVersion(ctx)
	hour := time.Hour
	*now = T0.Add(3 * time.Hour)
	if g, err = db.UpdateFeed(ctx, f.ID, store.FeedUpdate{Interval: &hour, Enable: true}); err != nil || g.Interval != hour || !g.NextPollAt.Equal(T0.Add(2*time.Hour)) {
		t.Errorf("interval update of an enabled feed: %+v, %v; want the interval set and the next poll kept", g, err)
	}
	if v3, _ := db.DataVersion(ctx); v3.Version != v2.Version {
		t.Errorf("data version %d -> %d for an interval", v2.Version, v3.Version)
	}
	empty, zero := "", time.Duration(0)
	if g, err = db.UpdateFeed(ctx, f.ID, store.FeedUpdate{Title: &empty, Interval: &zero}); err != nil || g.UserTitle != "" || g.Interval != 0 {
		t.Errorf("back to the feed's own title and the default interval: %+v, %v", g, err)
	}
	if _, err := db.UpdateFeed(ctx, f.ID+100, store.FeedUpdate{Enable: true}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a feed that does not exist: %v, want ErrNotFound", err)
	}
}
