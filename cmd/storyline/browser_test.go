package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storyline/storyline/cmd/storyline/internal/web"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

// beacon records the paths requested of it: a script that runs in the
// browser requests one, so any hit but an image is a script that ran.
type beacon struct {
	mu   sync.Mutex
	hits []string
}

func (b *beacon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.hits = append(b.hits, r.URL.Path)
	b.mu.Unlock()
	if r.URL.Path == "/control" {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>control</title><script>fetch('/control-ran')</script>`))
	}
}

func (b *beacon) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.hits...)
}

// headlessChromium loads url in a fresh headless Chromium, lets the page
// run for a few virtual seconds, and returns the DOM it ended with.
func headlessChromium(t *testing.T, chromium, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=3000", "--dump-dom", url)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr)
	}
	return string(out)
}

// TestBrowserRunsNoScript loads the page of a database fed a hostile feed
// (testdata/hostile.xml) in a real browser: no script runs (the beacon
// hears nothing), and the page comes with its Content-Security-Policy. A
// control page shows that the harness would hear a script that did run.
// The front page, the storyline's page (which shows the stories' first
// lines) and a search are loaded.
func TestBrowserRunsNoScript(t *testing.T) {
	chromium := needTool(t, "chromium")
	bc := &beacon{}
	bsrv := httptest.NewServer(bc)
	defer bsrv.Close()

	fixture, err := os.ReadFile("testdata/hostile.xml")
	if err != nil {
		t.Fatal(err)
	}
	feed := strings.ReplaceAll(string(fixture), "BEACON", bsrv.URL)
	feed = strings.ReplaceAll(feed, "PUBDATE", time.Now().Add(-time.Hour).UTC().Format(time.RFC1123Z))
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(feed))
	}))
	defer src.Close()
	dbPath := filepath.Join(t.TempDir(), "hostile.db")
	mustRun(t, "--db", dbPath, "add", src.URL+"/feed.xml")
	if out := mustRun(t, "--db", dbPath, "poll", "--all"); !strings.Contains(out, "2 new") {
		t.Fatalf("poll: %s", out)
	}
	db, err := sqlite.OpenExisting(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site := httptest.NewServer(web.New(web.Options{Store: db}))
	defer site.Close()

	// The harness hears a script that runs.
	headlessChromium(t, chromium, bsrv.URL+"/control")
	if !slices.Contains(bc.seen(), "/control-ran") {
		t.Fatalf("the control page's script was not heard (beacon saw %v): the test cannot see scripts run", bc.seen())
	}

	resp, err := http.Get(site.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	es, err := db.Entries(context.Background(), store.EntryQuery{Limit: 1})
	if err != nil || len(es) == 0 || es[0].TopicID == 0 {
		t.Fatalf("the hostile story has no storyline: %v %+v", err, es)
	}
	// The front page, the storyline's page (with the stories' first
	// lines) and a search that finds it.
	for _, path := range []string{"/", "/topics/" + strconv.FormatInt(es[0].TopicID, 10), "/search?q=harbour"} {
		before := len(bc.seen())
		dom := headlessChromium(t, chromium, site.URL+path)
		if !strings.Contains(dom, "Harbour") {
			t.Fatalf("%s does not show the hostile stories:\n%s", path, dom)
		}
		if strings.Contains(strings.ToLower(dom), "<script") {
			t.Errorf("the DOM of %s holds a script element:\n%s", path, dom)
		}
		for _, hit := range bc.seen()[before:] {
			t.Errorf("a script ran in %s: the beacon heard %s", path, hit)
		}
	}
}
