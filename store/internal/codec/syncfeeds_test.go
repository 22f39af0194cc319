package codec

import (
	"reflect"
	"testing"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

func TestPlanFeedSync(t *testing.T) {
	_, secret := feeds.SplitSecrets("https://u:p@b.example/old")
	have := []SubscribedFeed{
		{ID: 1, URL: "https://a.example/feed", AddedURL: "https://a.example/feed", Title: "A", IntervalMS: 60000},
		// Moved by a redirect: still found by the URL it was added with.
		{ID: 2, URL: "https://b.example/new", AddedURL: "https://b.example/old", Title: "B", IntervalMS: 60000, Secret: secret},
	}
	want := []store.NewFeed{
		{URL: "https://a.example/feed", Title: "A", Interval: time.Minute},     // unchanged
		{URL: "https://u:p@b.example/old", Title: "B2", Interval: time.Minute}, // retitled
		{URL: "https://c.example/feed", Title: "C", Interval: 2 * time.Minute}, // new
	}
	add, update := PlanFeedSync(have, want)
	if w := []FeedChange{{URL: "https://c.example/feed", Title: "C", IntervalMS: 120000}}; !reflect.DeepEqual(add, w) {
		t.Errorf("add = %+v, want %+v", add, w)
	}
	if w := []FeedChange{{ID: 2, URL: "https://b.example/old", Title: "B2", IntervalMS: 60000, Secret: secret}}; !reflect.DeepEqual(update, w) {
		t.Errorf("update = %+v, want %+v", update, w)
	}
}
