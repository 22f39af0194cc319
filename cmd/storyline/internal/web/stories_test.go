package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// The pages count a storyline's articles, not its entries: the fixture's
// bridge storyline has six entries, two of them one article (the shared
// link), so it is five stories, as its page lists them.
func TestStoriesCountArticlesOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	es, err := f.db.Entries(ctx, store.EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var bridge int64
	for _, e := range es {
		if e.Entry.Link == sharedLink {
			bridge = e.TopicID
		}
	}
	tp, err := f.db.Topic(ctx, bridge)
	if err != nil || tp.Size != 6 || tp.Stories != 5 || tp.Outlets != 3 {
		t.Fatalf("the bridge storyline: %+v, %v; want 6 entries, 5 stories, 3 outlets", tp, err)
	}
	page := f.get(t, "/topics/"+strconv.FormatInt(bridge, 10)).Body.String()
	if !strings.Contains(page, "5 stories from 3 outlets") {
		t.Errorf("the storyline's page does not say 5 stories from 3 outlets:\n%s", page)
	}
	if n := strings.Count(page, "<li>"); n != 5 {
		t.Errorf("the storyline's page lists %d stories, want 5", n)
	}
	if !strings.Contains(page, "at most 1 in one hour") {
		t.Errorf("the chart counts a folded story twice:\n%s", page)
	}
	front := f.get(t, "/").Body.String()
	if !strings.Contains(front, "All 5 stories") || !strings.Contains(front, "5 stories from 3 outlets") {
		t.Errorf("the front page does not count 5 stories:\n%s", front)
	}
}

// An article that an outlet's main and section feeds both carry names that
// outlet once, wherever the copies' outlets are listed: the pages, the
// feeds' "Also reported by" and also_in, the storylines feed.
func TestAlsoNamesEachOutletOnce(t *testing.T) {
	at := t0.Add(-time.Hour)
	entry := func(id int64, feed, link string) store.StoredEntry {
		return store.StoredEntry{ID: id, FeedTitle: feed, FeedURL: "https://" + strings.ReplaceAll(feed, " ", "") + ".example/feed",
			Entry: feeds.Entry{Link: link, Title: "Harbour bridge closed", Published: at}}
	}
	const link = "https://gazette.example/bridge"
	st := story{StoredEntry: entry(1, "Local Gazette", link),
		also: []store.StoredEntry{entry(2, "Local Gazette", link), entry(3, "Meridian Wire", link), entry(4, "Meridian Wire", link)}}
	l := links{base: "https://storyline.example", host: "storyline.example", ext: "atom"}

	ps := toPageStory(st)
	if len(ps.Also) != 1 || ps.Also[0].Outlet != "Meridian Wire" {
		t.Errorf("page story also %+v, want Meridian Wire once", ps.Also)
	}
	it := storyItem(l, st, nil)
	if !strings.Contains(it.ContentHTML, "<p>Also reported by Meridian Wire.</p>") || len(it.AlsoIn) != 1 {
		t.Errorf("feed item names %d other outlets: %q", len(it.AlsoIn), it.ContentHTML)
	}
	d := digestItem(l, digest{Topic: store.Topic{ID: 7, Name: "Bridge", Stories: 3}, stories: []story{st}}, time.UTC)
	if strings.Count(d.ContentHTML, "also ") != 1 || strings.Contains(d.ContentHTML, "also Local Gazette") {
		t.Errorf("storylines feed entry repeats an outlet: %q", d.ContentHTML)
	}
	if !strings.Contains(d.ContentHTML, "<p>2 more in") {
		t.Errorf("storylines feed entry does not count 2 more stories: %q", d.ContentHTML)
	}

	// Only the main and section feeds: nobody else reported it.
	alone := story{StoredEntry: entry(1, "Local Gazette", link), also: []store.StoredEntry{entry(2, "Local Gazette", link)}}
	if ps := toPageStory(alone); len(ps.Also) != 0 {
		t.Errorf("page story also %+v, want none", ps.Also)
	}
	if it := storyItem(l, alone, nil); strings.Contains(it.ContentHTML, "Also reported") || len(it.AlsoIn) != 0 {
		t.Errorf("feed item names its own outlet as another: %q, %+v", it.ContentHTML, it.AlsoIn)
	}
}

// TestOneArticleInTwoFeedsIsNoStoryline: an article that an outlet's main
// and section feeds both carry is two entries but one story, and a story
// alone is not a storyline: the storylines feed and the front page leave
// it out, as they leave out any storyline of one story.
func TestOneArticleInTwoFeedsIsNoStoryline(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const link = "https://almanac.example/orchard-festival"
	pub := t0.Add(-30 * time.Minute)
	for _, u := range []string{"https://almanac.example/feed", "https://almanac.example/events/feed"} {
		fd, err := f.db.AddFeed(ctx, store.NewFeed{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ingest.SavePoll(ctx, store.PollResult{FeedID: fd.ID, PolledAt: pub, Status: 200, Title: "Village Almanac",
			Entries: []feeds.Entry{{ID: u, Link: link, Title: "Orchard festival returns with cider tasting and apple races", Published: pub,
				Text: "Orchard festival returns with cider tasting and apple races this weekend."}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.ingest.ClusterPending(ctx); err != nil {
		t.Fatal(err)
	}
	es, err := f.db.Entries(ctx, store.EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var topic int64
	for _, e := range es {
		if e.Entry.Link == link {
			topic = e.TopicID
		}
	}
	if tp, err := f.db.Topic(ctx, topic); err != nil || tp.Size != 2 || tp.Stories != 1 {
		t.Fatalf("the festival's topic: %+v, %v; want 2 entries, 1 story", tp, err)
	}
	if body := f.get(t, "/topics.atom").Body.String(); strings.Contains(body, "Orchard festival") {
		t.Errorf("the storylines feed shows the article of two feeds as a storyline")
	}
	// The front page lists it once, among the latest stories, not as a
	// storyline of its own.
	if body := f.get(t, "/").Body.String(); strings.Count(body, "Orchard festival") != 1 ||
		strings.Index(body, "Orchard festival") < strings.Index(body, `class="latest"`) {
		t.Errorf("the front page shows the article of two feeds as a storyline")
	}
	n := 0
	for _, e := range parse(t, f.get(t, "/feed.atom")).Entries {
		if e.Link == link {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the merged feed shows the article %d times, want once", n)
	}
}

// TestEndedStorylineIsGone: a storyline whose stories were all removed
// (with their feed) answers 410 Gone, on its feed and its page, so that a
// reader drops the subscription; an ID never handed out stays 404.
func TestEndedStorylineIsGone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	fd, err := f.db.AddFeed(ctx, store.NewFeed{URL: "https://almanac.example/feed"})
	if err != nil {
		t.Fatal(err)
	}
	pub := t0.Add(-30 * time.Minute)
	if _, err := f.ingest.SavePoll(ctx, store.PollResult{FeedID: fd.ID, PolledAt: pub, Status: 200, Title: "Village Almanac",
		Entries: []feeds.Entry{{ID: "1", Link: "https://almanac.example/orchard", Title: "Orchard festival returns with cider tasting",
			Published: pub}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ingest.ClusterPending(ctx); err != nil {
		t.Fatal(err)
	}
	mine, err := f.db.Entries(ctx, store.EntryQuery{FeedID: fd.ID})
	if err != nil || len(mine) != 1 || mine[0].TopicID == 0 {
		t.Fatalf("the almanac's story: %+v, %v", mine, err)
	}
	topic, feed := mine[0].TopicID, fd.ID
	if _, err := f.ingest.RemoveFeed(ctx, strconv.FormatInt(feed, 10)); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(topic, 10)
	if rec := f.get(t, "/topics/"+id+".atom"); rec.Code != http.StatusGone {
		t.Errorf("feed of an ended storyline: %d %s, want 410", rec.Code, rec.Body)
	}
	if rec := f.get(t, "/topics/"+id); rec.Code != http.StatusGone || !strings.Contains(rec.Body.String(), "has ended") {
		t.Errorf("page of an ended storyline: %d, want 410 and a page saying so", rec.Code)
	}
	if rec := f.get(t, "/topics/99999.atom"); rec.Code != http.StatusNotFound {
		t.Errorf("an ID never handed out: %d, want 404", rec.Code)
	}
}
