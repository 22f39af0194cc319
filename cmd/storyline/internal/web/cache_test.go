package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

// lateStory is a poll of the fixture's second outlet with one new story.
func lateStory(f *fixture, id string) store.PollResult {
	return store.PollResult{FeedID: f.feedIDs[1], PolledAt: t0, Status: 200, Title: outletTitles[1],
		Entries: []feeds.Entry{{ID: id, Link: "https://wire.example/" + id, Title: "Ferry service resumes under the harbour bridge " + id,
			Text: "Ferries run again.", Published: t0}}}
}

// revalidate asks for /feed.atom with its ETag, over a request context
// that is already cancelled: a database query on the way would fail, so a
// 304 proves that none ran.
func (f *fixture) revalidate(t *testing.T, ctx context.Context, etag string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(ctx, "GET", "/feed.atom", nil)
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

// When nothing changed, a conditional request is answered with 304 from
// memory, without touching the database. A write of this process shows at
// once; one of another process (another store handle on the same file)
// within the store's refresh interval of a second.
func TestNotModifiedFromMemory(t *testing.T) {
	f := newFixture(t)
	now := t0
	f.db.Now = func() time.Time { return now }
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	etag := f.get(t, "/feed.atom").Header().Get("ETag")
	if rec := f.revalidate(t, cancelled, etag); rec.Code != http.StatusNotModified {
		t.Fatalf("unchanged: status %d, want 304 without the database", rec.Code)
	}

	if _, err := f.ingest.SavePoll(context.Background(), lateStory(f, "ours")); err != nil {
		t.Fatal(err)
	}
	rec := f.revalidate(t, context.Background(), etag)
	if rec.Code != http.StatusOK || rec.Header().Get("ETag") == etag {
		t.Fatalf("after a write of ours: status %d, ETag %s (was %s)", rec.Code, rec.Header().Get("ETag"), etag)
	}
	etag = rec.Header().Get("ETag")

	other, err := sqlite.Open(context.Background(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.Now = func() time.Time { return t0 }
	if _, err := ingest.New(other, cluster.DefaultConfig()).SavePoll(context.Background(), lateStory(f, "theirs")); err != nil {
		t.Fatal(err)
	}
	if rec := f.revalidate(t, cancelled, etag); rec.Code != http.StatusNotModified {
		t.Fatalf("another process's write, at once: status %d, want 304 from memory", rec.Code)
	}
	now = now.Add(time.Second)
	if rec := f.revalidate(t, context.Background(), etag); rec.Code != http.StatusOK {
		t.Errorf("another process's write, a second later: status %d, want 200", rec.Code)
	}
}
