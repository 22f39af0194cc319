package feeds

import (
	"testing"
	"time"
)

func TestFutureDatesAreNotBelieved(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>Clockless Courier</title>
<link>https://clockless.example/</link><description>d</description>
<item><title>Pinned notice</title><link>https://clockless.example/pinned</link><pubDate>Thu, 31 Dec 2099 23:00:00 GMT</pubDate></item>
<item><title>Time zone slip</title><link>https://clockless.example/tz</link><pubDate>Thu, 26 Nov 2026 17:00:00 GMT</pubDate></item>
<item><title>Just now</title><link>https://clockless.example/now</link><pubDate>Thu, 26 Nov 2026 12:05:00 GMT</pubDate></item>
</channel></rss>`
	f, err := Parse([]byte(doc), "https://clockless.example/feed", now)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		published time.Time
		undated   bool
	}{
		{now, true},
		{now, true},
		{time.Date(2026, 11, 26, 12, 5, 0, 0, time.UTC), false}, // within the clock skew allowed
	}
	for i, w := range want {
		e := f.Entries[i]
		if !e.Published.Equal(w.published) || e.Undated != w.undated {
			t.Errorf("%q: published %v undated %v, want %v %v", e.Title, e.Published, e.Undated, w.published, w.undated)
		}
	}
	// The id does not change with the poll time.
	g, _ := Parse([]byte(doc), "https://clockless.example/feed", now.Add(time.Hour))
	for i := range f.Entries {
		if f.Entries[i].ID != g.Entries[i].ID {
			t.Errorf("entry %d: id %q then %q", i, f.Entries[i].ID, g.Entries[i].ID)
		}
	}
}
