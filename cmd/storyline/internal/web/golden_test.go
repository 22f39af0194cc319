package web

import (
	"context"
	"flag"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/cmd/storyline/internal/demo"
	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden pages under testdata/golden")

// demoServer is a Server over the demo corpus, as `serve --demo` shows it
// two hours after its newest story, with fixed URLs so that its pages are
// the same at every run.
func demoServer(t testing.TB) *Server {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return demo.Newest.Add(2 * time.Hour) }
	return demoServerOn(t, db)
}

// demoDB is what demoServerOn needs of a backend.
type demoDB interface {
	Store
	ingest.Store
	AddFeed(ctx context.Context, nf store.NewFeed) (store.Feed, error)
}

// demoServerOn is demoServer on a database of any backend, whose clock
// stands two hours after the demo's newest story.
func demoServerOn(t testing.TB, db demoDB) *Server {
	t.Helper()
	ctx := context.Background()
	now := demo.Newest.Add(2 * time.Hour)
	files, err := fs.ReadDir(demo.Files(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var polls []store.PollResult
	for _, e := range files {
		u := "http://demo.example/" + e.Name()
		body, err := fs.ReadFile(demo.Files(), e.Name())
		if err != nil {
			t.Fatal(err)
		}
		doc, err := feeds.Parse(body, u, now)
		if err != nil {
			t.Fatal(err)
		}
		f, err := db.AddFeed(ctx, store.NewFeed{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		polls = append(polls, store.PollResult{FeedID: f.ID, PolledAt: now, Status: 200,
			Title: doc.Title, Language: doc.Language, Entries: doc.Entries})
	}
	pipe := ingest.New(db, cluster.DefaultConfig())
	if _, err := pipe.SavePolls(ctx, polls); err != nil {
		t.Fatal(err)
	}
	if _, err := pipe.ClusterPending(ctx); err != nil {
		t.Fatal(err)
	}
	return New(Options{Store: db, BaseURL: "https://storyline.example", Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// goldenPages are the pages compared with testdata/golden: the front page
// (storylines with and without a picture), a storyline's page and a
// search.
func goldenPages(t testing.TB, s *Server) map[string]string {
	t.Helper()
	get := func(path string) string {
		rec := serve(s, path)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	front := get("/")
	// The top storyline's page.
	_, rest, _ := strings.Cut(front, `<article class="storyline"`)
	_, rest, _ = strings.Cut(rest, `<a href="https://storyline.example/topics/`)
	id, _, _ := strings.Cut(rest, `"`)
	return map[string]string{
		"front.html":  front,
		"topic.html":  get("/topics/" + id),
		"search.html": get("/search?q=Kremlin"),
	}
}

// TestGoldenPages: the demo's pages are what testdata/golden holds (go test
// -update rewrites them, for review in the diff). They show a storyline
// with a picture and one without, every demo storyline, a storyline's
// chart, and a search grouped by storyline.
func TestGoldenPages(t *testing.T) {
	pages := goldenPages(t, demoServer(t))
	front := pages["front.html"]
	for _, want := range []string{"Geneva", "counter-proposal", "Kyiv", "Harrowfield Rovers", "Storm Maren", "Aster X9",
		`src="http://demo.example/images/geneva-talks.svg"`, `loading="lazy"`, `<svg viewBox`} {
		if !strings.Contains(front+pages["topic.html"], want) {
			t.Errorf("the pages lack %s", want)
		}
	}
	if strings.Count(front, `<article class="storyline"`) <= strings.Count(front, "<img ") {
		t.Error("every storyline has a picture: the pages do not show one without")
	}
	for name, got := range pages {
		path := filepath.Join("testdata", "golden", name)
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s (go test -update rewrites it; review the diff)", name, path)
		}
	}
}

// TestPagesAreValidHTML runs HTML Tidy over the three pages: no errors.
// Under CI=true a missing tidy is a failure (.ci/run installs it).
func TestPagesAreValidHTML(t *testing.T) {
	tidy, err := exec.LookPath("tidy")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tidy is not installed (CI=true): %v", err)
		}
		t.Skip("tidy is not installed")
	}
	for name, page := range goldenPages(t, demoServer(t)) {
		cmd := exec.Command(tidy, "-errors", "-q")
		cmd.Stdin = strings.NewReader(page)
		out, err := cmd.CombinedOutput()
		// tidy exits 1 for warnings, 2 for errors.
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() >= 2 || len(out) > 0 && strings.Contains(string(out), "Error") {
			t.Errorf("%s: tidy reports errors:\n%s", name, out)
		} else if err != nil && !ok {
			t.Fatal(err)
		}
	}
}

func serve(s *Server, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	return rec
}
