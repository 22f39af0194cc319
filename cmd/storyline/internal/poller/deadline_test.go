package poller

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/storyline/storyline/store"
)

// A poll cut short by its deadline saves nothing for the feeds it did not
// finish: a feed still waiting for its host slot keeps its validators and
// schedule, rather than being saved as a success with neither.
func TestDeadlineKeepsFeedState(t *testing.T) {
	body, _ := os.ReadFile("testdata/news.rss")
	slow := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-slow:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write(body)
	}))
	defer srv.Close()
	defer close(slow)
	db, p := newTest(t)
	p.Config.PerHost = 1
	ctx := context.Background()
	fast, _ := db.AddFeed(ctx, store.NewFeed{URL: srv.URL + "/feed"})
	if _, err := p.Poll(ctx, []store.Feed{fast}); err != nil {
		t.Fatal(err)
	}
	fast, _ = db.Feed(ctx, srv.URL+"/feed")
	if fast.ETag != `"v1"` {
		t.Fatalf("etag %q", fast.ETag)
	}
	slowF, _ := db.AddFeed(ctx, store.NewFeed{URL: srv.URL + "/slow"})
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	p.Poll(dctx, []store.Feed{slowF, fast})
	after, _ := db.Feed(ctx, srv.URL+"/feed")
	if after.ETag != `"v1"` || after.NextPollAt.IsZero() {
		t.Errorf("after a deadline: etag %q, next poll %v, last error %q", after.ETag, after.NextPollAt, after.LastError)
	}
}
