package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

// needTool finds an outside program the interop tests run. Under CI a
// missing tool is a failure: .ci/run installs them all.
func needTool(t *testing.T, path string) string {
	t.Helper()
	p, err := exec.LookPath(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI=true): %v", path, err)
		}
		t.Skipf("%s is not installed", path)
	}
	return p
}

// demoDaemon starts `storyline serve --demo` and waits until the demo feeds
// are polled and every story is clustered.
func demoDaemon(t *testing.T) *daemon {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "demo.db")
	d := startDaemon(t, "--db", dbPath, "serve", "--demo", "--listen", "127.0.0.1:0")
	// Wait until all five feeds are stored (the daemon may save them in
	// several batches) and clustered, reading the file as the CLI would.
	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		fl, err := db.Feeds(context.Background())
		polled := 0
		for _, f := range fl {
			if !f.LastPolledAt.IsZero() {
				polled++
			}
		}
		if err == nil && len(fl) == 5 && polled == 5 {
			es, err := db.Entries(context.Background(), store.EntryQuery{})
			clustered := 0
			for _, e := range es {
				if e.TopicID != 0 {
					clustered++
				}
			}
			if err == nil && len(es) > 0 && clustered == len(es) {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo: %d of %d feeds polled after 20 s (%v)", polled, len(fl), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return b
}

// jsonFeed is the part of JSON Feed 1.1 that the spec requires, plus what
// storyline promises on every item.
type jsonFeed struct {
	Version string `json:"version"`
	Title   string `json:"title"`
	FeedURL string `json:"feed_url"`
	Items   []struct {
		ID            string   `json:"id"`
		URL           string   `json:"url"`
		Title         string   `json:"title"`
		ContentHTML   *string  `json:"content_html"`
		ContentText   *string  `json:"content_text"`
		DatePublished string   `json:"date_published"`
		Tags          []string `json:"tags"`
		Authors       []struct {
			Name string `json:"name"`
		} `json:"authors"`
	} `json:"items"`
}

func TestInteropWithRealClients(t *testing.T) {
	python := needTool(t, "/usr/bin/python3")
	xmllint := needTool(t, "xmllint")
	newsboat := needTool(t, "newsboat")
	sqlite := needTool(t, "sqlite3")
	if out, err := exec.Command(python, "-c", "import feedparser").CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3-feedparser is not installed: %s", out)
		}
		t.Skipf("python3-feedparser is not installed: %s", out)
	}
	d := demoDaemon(t)
	base := d.baseURL

	// What the feeds should hold, from the JSON side.
	var merged, digest, topic jsonFeed
	getJSON(t, base+"feed.json", &merged)
	getJSON(t, base+"topics.json", &digest)
	topicID := strings.TrimSuffix(filepath.Base(digest.Items[0].URL), ".json")
	if _, err := strconv.Atoi(topicID); err != nil {
		// The digest item's url is the topic page or feed; take the id
		// from the item id instead.
		topicID = digest.Items[0].ID[strings.LastIndex(digest.Items[0].ID, "/")+1:]
	}
	getJSON(t, base+"topics/"+topicID+".json", &topic)

	t.Run("json feed 1.1", func(t *testing.T) {
		for name, f := range map[string]jsonFeed{"feed.json": merged, "topics.json": digest, "topic": topic} {
			if f.Version != "https://jsonfeed.org/version/1.1" || f.Title == "" || len(f.Items) == 0 {
				t.Errorf("%s: version %q title %q items %d", name, f.Version, f.Title, len(f.Items))
			}
			for i, it := range f.Items {
				if it.ID == "" || (it.ContentHTML == nil && it.ContentText == nil) {
					t.Errorf("%s item %d: id %q, no content", name, i, it.ID)
				}
				if _, err := time.Parse(time.RFC3339, it.DatePublished); err != nil {
					t.Errorf("%s item %d: date_published %q", name, i, it.DatePublished)
				}
			}
		}
		for i, it := range merged.Items {
			if it.URL == "" || len(it.Tags) == 0 || len(it.Authors) == 0 {
				t.Errorf("feed.json item %d: url %q tags %v authors %v", i, it.URL, it.Tags, it.Authors)
			}
		}
		if len(merged.Items) != 50 {
			t.Errorf("feed.json: %d items, want the default limit of 50", len(merged.Items))
		}
	})

	t.Run("feedparser", func(t *testing.T) {
		args := []string{"testdata/check_feedparser.py",
			base + "feed.atom", strconv.Itoa(len(merged.Items)), "1",
			base + "feed.rss", strconv.Itoa(len(merged.Items)), "1",
			base + "topics.atom", strconv.Itoa(len(digest.Items)), "1",
			base + "topics/" + topicID + ".atom", strconv.Itoa(len(topic.Items)), "1",
		}
		out, err := exec.Command(python, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("feedparser: %v\n%s", err, out)
		}
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		n := 0
		for sc.Scan() {
			var r struct {
				URL          string   `json:"url"`
				Version      string   `json:"version"`
				Entries      int      `json:"entries"`
				ETag         string   `json:"etag"`
				SecondStatus int      `json:"second_status"`
				Problems     []string `json:"problems"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("feedparser output %q: %v", sc.Text(), err)
			}
			n++
			for _, p := range r.Problems {
				t.Errorf("%s: %s", r.URL, p)
			}
			if r.ETag == "" || r.SecondStatus != 304 {
				t.Errorf("%s: etag %q, second request status %d, want 304", r.URL, r.ETag, r.SecondStatus)
			}
			t.Logf("%s: %s, %d entries, revalidated with %d", r.URL, r.Version, r.Entries, r.SecondStatus)
		}
		if n != 4 {
			t.Errorf("feedparser checked %d feeds, want 4:\n%s", n, out)
		}
	})

	t.Run("xmllint", func(t *testing.T) {
		dir := t.TempDir()
		for _, p := range []string{"feed.atom", "feed.rss", "topics.atom", "topics.rss",
			"topics/" + topicID + ".atom", "topics/" + topicID + ".rss"} {
			file := filepath.Join(dir, strings.ReplaceAll(p, "/", "_"))
			os.WriteFile(file, fetch(t, base+p), 0o644)
			if out, err := exec.Command(xmllint, "--noout", file).CombinedOutput(); err != nil {
				t.Errorf("xmllint %s: %v\n%s", p, err, out)
			}
		}
	})

	t.Run("newsboat", func(t *testing.T) {
		dir := t.TempDir()
		urls := filepath.Join(dir, "urls")
		cache := filepath.Join(dir, "cache.db")
		os.WriteFile(urls, []byte(base+"feed.atom\n"+base+"topics.atom\n"), 0o644)
		cmd := exec.Command(newsboat, "-u", urls, "-c", cache, "-C", filepath.Join(dir, "config"), "-x", "reload")
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
		os.WriteFile(filepath.Join(dir, "config"), nil, 0o644)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("newsboat reload: %v\n%s", err, out)
		}
		for feed, want := range map[string]int{base + "feed.atom": len(merged.Items), base + "topics.atom": len(digest.Items)} {
			out, err := exec.Command(sqlite, cache, fmt.Sprintf(
				"SELECT COUNT(*) FROM rss_item WHERE feedurl = '%s'", feed)).CombinedOutput()
			if err != nil {
				t.Fatalf("sqlite3 %s: %v\n%s", cache, err, out)
			}
			if got, _ := strconv.Atoi(strings.TrimSpace(string(out))); got != want {
				t.Errorf("newsboat holds %d articles of %s, want %d", got, feed, want)
			}
		}
	})
}
