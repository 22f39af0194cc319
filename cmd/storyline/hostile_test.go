package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/cmd/storyline/internal/web"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

// TestHostileFeedIsBounded: a feed with a 5 MB title, 10,000 categories
// and 5,000 items is stored cut to size, the poll summary says so, and what
// is served stays small. It used to be stored whole and make / 5.25 MB.
func TestHostileFeedIsBounded(t *testing.T) {
	now := time.Now().UTC()
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>`)
		b.WriteString("<item><title>" + strings.Repeat("Breaking ", 600_000) + "</title><guid>big</guid>")
		for i := range 10_000 {
			fmt.Fprintf(&b, "<category>tag%d</category>", i)
		}
		fmt.Fprintf(&b, "<pubDate>%s</pubDate></item>", now.Format(time.RFC1123Z))
		for i := range 5000 {
			fmt.Fprintf(&b, "<item><title>Item %d</title><guid>i%d</guid><pubDate>%s</pubDate></item>",
				i, i, now.Add(-time.Duration(i+1)*time.Minute).Format(time.RFC1123Z))
		}
		b.WriteString("</channel></rss>")
		io.WriteString(w, b.String())
	}))
	defer src.Close()
	dbPath := filepath.Join(t.TempDir(), "hostile.db")
	mustRun(t, "--db", dbPath, "add", src.URL+"/feed.xml")
	out := mustRun(t, "--db", dbPath, "poll", "--all")
	if !strings.Contains(out, "1000 new") || !strings.Contains(out, "2 fields truncated") ||
		!strings.Contains(out, "4001 oldest items beyond poll.max_items skipped") {
		t.Errorf("poll summary:\n%s", out)
	}

	db, err := sqlite.OpenExisting(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	es, err := db.Entries(context.Background(), store.EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1000 || !strings.HasPrefix(es[0].Entry.Title, "Breaking") || es[len(es)-1].Entry.Title != "Item 998" {
		t.Errorf("stored %d entries, newest %.20q, oldest %q", len(es), es[0].Entry.Title, es[len(es)-1].Entry.Title)
	}
	ts := httptest.NewServer(web.New(web.Options{Store: db}))
	defer ts.Close()
	for _, path := range []string{"/", "/feed.atom", "/feed.rss", "/feed.json"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n > 256<<10 {
			t.Errorf("GET %s: %s, %d bytes", path, resp.Status, n)
		}
	}
}
