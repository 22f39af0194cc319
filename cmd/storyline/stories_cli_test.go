package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/cmd/storyline/internal/web"
	"github.com/storyline/storyline/store/sqlite"
)

// gazetteRSS is a feed of the Local Gazette: its main feed and its politics
// section both use it, each with one item of its own besides the article
// they share (same link, a guid of each feed's own).
func gazetteRSS(path string, items ...[3]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Local Gazette</title><link>https://gazette.example/</link><description>News</description>
`)
	pub := time.Now().Add(-3 * time.Hour)
	for i, it := range items {
		fmt.Fprintf(&b, `<item><guid isPermaLink="false">%s-%d</guid><link>%s</link><title>%s</title><description>%s</description><pubDate>%s</pubDate></item>
`, path, i, it[0], it[1], it[2], pub.Add(time.Duration(i)*time.Hour).UTC().Format(time.RFC1123Z))
	}
	b.WriteString("</channel></rss>\n")
	return b.String()
}

// An article that reaches storyline through two feeds of one outlet is one
// story, and the two feeds are one outlet: polled from two real feeds of
// one name, the storyline of three articles (four entries) says 3 stories
// from 1 outlet in `topic`, `topics` and their JSON and on its page, and
// the page does not name the outlet twice beside the article.
func TestCLIStoriesCountArticlesOnce(t *testing.T) {
	shared := [3]string{"https://gazette.example/bridge", "Harbour bridge closed after storm damage",
		"The harbour bridge was closed after the storm damaged its cables."}
	main := gazetteRSS("main", shared, [3]string{"https://gazette.example/bridge-engineers",
		"Storm damage closes harbour bridge", "Engineers closed the harbour bridge after storm damage to its cables."})
	section := gazetteRSS("politics", shared, [3]string{"https://gazette.example/politics/bridge-closed",
		"Harbour bridge stays closed after storm", "The harbour bridge stays closed while engineers inspect the storm damage."})
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		switch r.URL.Path {
		case "/feed.xml":
			w.Write([]byte(main))
		case "/politics/feed.xml":
			w.Write([]byte(section))
		default:
			http.NotFound(w, r)
		}
	}))
	defer src.Close()
	dbPath := filepath.Join(t.TempDir(), "copies.db")
	mustRun(t, "--db", dbPath, "add", src.URL+"/feed.xml")
	mustRun(t, "--db", dbPath, "add", src.URL+"/politics/feed.xml")
	if out := mustRun(t, "--db", dbPath, "poll", "--all"); !strings.Contains(out, "4 new") {
		t.Fatalf("poll: %s", out)
	}

	var topics []map[string]any
	mustJSON(t, mustRun(t, "--db", dbPath, "topics", "--json"), &topics)
	if len(topics) != 1 {
		t.Fatalf("%d storylines, want the bridge's one: %v", len(topics), topics)
	}
	tp := topics[0]
	if tp["size"] != 4.0 || tp["story_count"] != 3.0 || tp["outlets"] != 1.0 {
		t.Errorf("topics --json: %v; want size 4, story_count 3, outlets 1", tp)
	}
	// --min-size counts stories too: 4 entries but 3 articles.
	for minSize, want := range map[string]int{"3": 1, "4": 0} {
		var got []map[string]any
		mustJSON(t, mustRun(t, "--db", dbPath, "topics", "--min-size", minSize, "--json"), &got)
		if len(got) != want {
			t.Errorf("topics --min-size %s: %d storylines, want %d", minSize, len(got), want)
		}
	}
	id := jsonNum(tp["id"].(float64))
	var one struct {
		Size       float64          `json:"size"`
		StoryCount float64          `json:"story_count"`
		Stories    []map[string]any `json:"stories"`
	}
	mustJSON(t, mustRun(t, "--db", dbPath, "topic", id, "--json"), &one)
	if one.Size != 4 || one.StoryCount != 3 || len(one.Stories) != 4 {
		t.Errorf("topic --json: size %v, story_count %v, %d entries; want 4, 3, 4", one.Size, one.StoryCount, len(one.Stories))
	}
	out := mustRun(t, "--db", dbPath, "topic", id)
	if !strings.Contains(out, "\n3 stories from 1 outlet, ") {
		t.Errorf("topic does not say 3 stories from 1 outlet:\n%s", out)
	}
	// It lists the three articles, the shared one once.
	if n := strings.Count(out, "https://gazette.example/bridge\n"); n != 1 {
		t.Errorf("topic lists the shared article %d times, want once:\n%s", n, out)
	}
	if n := strings.Count(out, "https://gazette.example/"); n != 3 {
		t.Errorf("topic lists %d articles, want 3:\n%s", n, out)
	}
	if hits := mustRun(t, "--db", dbPath, "search", "closed"); strings.Count(hits, "Harbour bridge closed after storm damage") != 1 {
		t.Errorf("search lists the shared article more than once:\n%s", hits)
	}
	table := mustRun(t, "--db", dbPath, "topics")
	lines := strings.Split(table, "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "ID  STORIES  OUTLETS") {
		t.Fatalf("topics:\n%s", table)
	}
	if f := strings.Fields(lines[1]); len(f) < 3 || f[0] != id || f[1] != "3" || f[2] != "1" {
		t.Errorf("topics: want storyline %s with 3 stories from 1 outlet:\n%s", id, table)
	}

	db, err := sqlite.OpenExisting(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec := httptest.NewRecorder()
	web.New(web.Options{Store: db}).ServeHTTP(rec, httptest.NewRequest("GET", "/topics/"+id, nil))
	page := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(page, "3 stories from 1 outlet") {
		t.Errorf("the storyline's page (status %d) does not say 3 stories from 1 outlet:\n%s", rec.Code, page)
	}
	if strings.Contains(page, "also Local Gazette") {
		t.Errorf("the storyline's page names the Local Gazette twice beside the shared article:\n%s", page)
	}
	// The outlets line names the outlet once, with its three stories.
	if !strings.Contains(page, "Local Gazette (3)</p>") {
		t.Errorf("the storyline's page does not list the Local Gazette once with 3 stories:\n%s", page)
	}
}
