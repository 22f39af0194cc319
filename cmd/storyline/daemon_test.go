package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

// TestMain lets a test run this test binary as the storyline command, so the
// daemon can be started as a real process (and sent real signals) without a
// separate go build.
func TestMain(m *testing.M) {
	if os.Getenv("STORYLINE_AS_MAIN") == "1" {
		os.Args = append([]string{"storyline"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	pgtest.Main(m)
}

// daemon is a storyline serve process under test.
type daemon struct {
	cmd     *exec.Cmd
	baseURL string
	mu      sync.Mutex
	log     strings.Builder
	exited  chan error
}

var servingURL = regexp.MustCompile(`"?url"?[=:]"?(http://127\.0\.0\.1:\d+/)`)

// startDaemon runs `storyline ARGS` (normally serve) and waits until it
// logs the address it listens on.
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(os.Args[0], args...), exited: make(chan error, 1)}
	d.cmd.Env = append(os.Environ(), "STORYLINE_AS_MAIN=1")
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.log.WriteString(line + "\n")
			d.mu.Unlock()
			if m := servingURL.FindStringSubmatch(line); m != nil && strings.Contains(line, "storyline serving") {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		d.exited <- d.cmd.Wait()
	}()
	t.Cleanup(func() {
		// Kill whatever is left; on a process already waited for it only
		// reports os.ErrProcessDone. (Reading cmd.ProcessState here raced
		// with the Wait above.)
		d.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.logText())
		}
	})
	select {
	case d.baseURL = <-found:
	case err := <-d.exited:
		t.Fatalf("daemon exited before serving: %v\n%s", err, d.logText())
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon did not start\n%s", d.logText())
	}
	return d
}

func (d *daemon) logText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// stop sends SIGTERM and returns the exit error and how long the exit took.
func (d *daemon) stop(t *testing.T) (error, time.Duration) {
	t.Helper()
	start := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.exited:
		return err, time.Since(start)
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		t.Fatal("daemon ignored SIGTERM for 15 s")
		return nil, 0
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// growingFeed serves an RSS feed whose item count the test controls.
type growingFeed struct {
	mu    sync.Mutex
	items int
	base  time.Time // publication time of the first item
}

func (g *growingFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	n := g.items
	g.mu.Unlock()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Riverside Courier</title>` +
		`<link>https://riverside-courier.example/</link><description>test</description>`)
	base := g.base
	if base.IsZero() {
		base = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	}
	headlines := []string{
		"Riverside council approves new tram line to the harbour",
		"Tram line to the harbour wins council approval in Riverside",
		"Riverside library extends its opening hours for the winter",
		"Harbour tram line: construction to start in spring, council says",
		"Winter opening hours announced for Riverside library",
		"Riverside rowing club wins regional regatta",
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `<item><title>%s</title><link>http://%s/story/%d</link><guid>rc-%d</guid>`+
			`<pubDate>%s</pubDate><description>Story %d of the Riverside Courier.</description></item>`,
			headlines[i%len(headlines)], r.Host, i, i, base.Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z), i)
	}
	b.WriteString(`</channel></rss>`)
	w.Header().Set("Content-Type", "application/rss+xml")
	io.WriteString(w, b.String())
}

func TestDaemonPollsServesAndStopsCleanly(t *testing.T) {
	feed := &growingFeed{items: 3, base: time.Now().Add(-time.Hour).UTC().Truncate(time.Second)}
	src := httptest.NewServer(feed)
	defer src.Close()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "daemon.db")
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
database: %s
poll:
  interval: 1s
  min_interval: 1s
serve:
  listen: 127.0.0.1:0
feeds:
  - url: %s/rss
`, dbPath, src.URL)), 0o644)

	d := startDaemon(t, "--config", cfg, "serve", "--log-format", "json")

	waitItems := func(want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var f struct {
				Items []map[string]any `json:"items"`
			}
			getJSON(t, d.baseURL+"feed.json", &f)
			if len(f.Items) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("merged feed has %d items, want %d", len(f.Items), want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitItems(3)
	feed.mu.Lock()
	feed.items = 6
	feed.mu.Unlock()
	waitItems(6)

	// A feed added by another process is picked up without a restart.
	second := httptest.NewServer(&growingFeed{items: 2, base: time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)})
	defer second.Close()
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"--db", dbPath, "add", second.URL + "/other"}, &out, &errb); err != nil {
		t.Fatalf("add while the daemon runs: %v %s", err, errb.String())
	}
	waitItems(8)

	resp, err := http.Get(d.baseURL + "healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	err, took := d.stop(t)
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if took > 10*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	// One JSON log line per poll, with the documented keys.
	sawPoll := false
	for _, line := range strings.Split(d.logText(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec["msg"] == "poll" {
			sawPoll = true
			for _, k := range []string{"feed", "url", "status", "new", "updated", "took_ms"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("poll log line without %q: %s", k, line)
				}
			}
			// Milliseconds, a whole number: slog would write a raw
			// time.Duration as nanoseconds with no unit in the key.
			if ms, ok := rec["took_ms"].(float64); !ok || ms != float64(int64(ms)) || ms > 10000 {
				t.Errorf("took_ms %v is not a plausible number of milliseconds: %s", rec["took_ms"], line)
			}
		}
	}
	if !sawPoll {
		t.Error("no poll log line")
	}

	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if res, err := db.IntegrityCheck(context.Background()); err != nil || res != "ok" {
		t.Errorf("integrity_check = %q, %v", res, err)
	}
	es, _ := db.Entries(context.Background(), store.EntryQuery{})
	if len(es) != 8 {
		t.Errorf("%d entries stored, want 8", len(es))
	}
	if _, err := os.Stat(dbPath + "-wal"); err == nil {
		if fi, _ := os.Stat(dbPath + "-wal"); fi.Size() > 0 {
			t.Errorf("WAL not checkpointed at exit: %d bytes", fi.Size())
		}
	}
}

// A kept demo database finds its demo feeds again when the demo server
// comes back on another port, instead of subscribing a second copy.
func TestMoveDemoFeeds(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "demo.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://127.0.0.1:1111/a.xml", "http://127.0.0.1:1111/b.json", "https://news.example/a.xml"} {
		if _, err := db.AddFeed(ctx, store.NewFeed{URL: u}); err != nil {
			t.Fatal(err)
		}
	}
	defer db.Close()
	if err := moveDemoFeeds(ctx, db, []string{"http://127.0.0.1:2222/a.xml", "http://127.0.0.1:2222/b.json"}); err != nil {
		t.Fatal(err)
	}
	fl, _ := db.Feeds(ctx)
	var got []string
	for _, f := range fl {
		got = append(got, f.URL)
	}
	want := "http://127.0.0.1:2222/a.xml http://127.0.0.1:2222/b.json https://news.example/a.xml"
	if strings.Join(got, " ") != want {
		t.Errorf("feeds after the move: %v", got)
	}
}

// A second signal ends the process at once, even while the first one's
// graceful shutdown waits for a slow client.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, "--db", filepath.Join(dir, "s.db"), "serve", "--listen", "127.0.0.1:0")
	// A client that sent half a request keeps its connection active, so
	// the graceful shutdown would wait for it (up to 5 s).
	host := strings.TrimSuffix(strings.TrimPrefix(d.baseURL, "http://"), "/")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("exit after two signals: %v, want status 130", err)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("two signals took %v to end the process", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second signal did not end the process")
	}
}
