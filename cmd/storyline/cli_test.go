package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storyline/storyline/cmd/storyline/internal/demo"
)

// runCLI calls run as the binary would, and returns stdout and stderr.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("storyline %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// mustJSON decodes the JSON output s into v, failing the test when it is
// not valid JSON of that shape.
func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}

func startDemo(t *testing.T) *demo.Server {
	t.Helper()
	srv, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func TestCLIEndToEnd(t *testing.T) {
	srv := startDemo(t)
	urls := srv.URLs()[:3]
	db := filepath.Join(t.TempDir(), "e2e.db")

	for _, u := range urls {
		out := mustRun(t, "--db", db, "add", u)
		if !strings.Contains(out, "added") {
			t.Errorf("add %s: %q", u, out)
		}
	}
	// Adding again is harmless.
	if out := mustRun(t, "--db", db, "add", urls[0]); !strings.Contains(out, "already subscribed") {
		t.Errorf("second add: %q", out)
	}

	out := mustRun(t, "--db", db, "poll")
	if !strings.Contains(out, "total: 3 feeds") || strings.Contains(out, "error") && !strings.Contains(out, "0 errors") {
		t.Errorf("poll summary:\n%s", out)
	}

	var fl []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, "--db", db, "feeds", "--json")), &fl); err != nil {
		t.Fatal(err)
	}
	if len(fl) != 3 {
		t.Fatalf("%d feeds", len(fl))
	}
	total := 0
	for i, f := range fl {
		for _, k := range []string{"id", "url", "title", "status", "errors", "last_error", "next_poll"} {
			if _, ok := f[k]; !ok {
				t.Errorf("feed %d has no %q: %v", i, k, f)
			}
		}
		if f["status"] != "ok" || f["http_status"] != 200.0 || f["url"] != urls[i] || f["title"] == "" {
			t.Errorf("feed %d: %v", i, f)
		}
		total += int(f["entries"].(float64))
	}

	var es []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, "--db", db, "entries", "--json", "--limit", "0")), &es); err != nil {
		t.Fatal(err)
	}
	if len(es) != total || total < 30 {
		t.Fatalf("entries --json gave %d entries, feeds count %d", len(es), total)
	}
	prev := ""
	for i, e := range es {
		for _, k := range []string{"id", "feed_id", "title", "link", "published"} {
			if v, ok := e[k]; !ok || v == "" {
				t.Errorf("entry %d: %q missing or empty: %v", i, k, e)
			}
		}
		if p := e["published"].(string); prev != "" && p > prev {
			t.Errorf("entries not newest first: %s after %s", p, prev)
		} else {
			prev = p
		}
	}

	// The tables show times in the config's zone (the JSON in UTC).
	cfgPath := filepath.Join(t.TempDir(), "tokyo.yaml")
	if err := os.WriteFile(cfgPath, []byte("timezone: Asia/Tokyo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	newest, err := time.Parse(time.RFC3339, es[0]["published"].(string))
	if err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	table := mustRun(t, "--config", cfgPath, "--db", db, "entries", "--limit", "1")
	if want := newest.In(tokyo).Format(timeLayout); !strings.Contains(table, want) {
		t.Errorf("entries with timezone Asia/Tokyo does not show %s (the newest story, %s):\n%s", want, newest, table)
	}

	// Filters.
	var one []map[string]any
	mustJSON(t, mustRun(t, "--db", db, "entries", "--json", "--feed", "2", "--limit", "3"), &one)
	if len(one) != 3 {
		t.Errorf("--feed 2 --limit 3 gave %d", len(one))
	}
	for _, e := range one {
		if e["feed_id"] != 2.0 {
			t.Errorf("--feed 2 gave %v", e)
		}
	}

	// A second poll right away has nothing due; --all polls again and
	// the server answers 304.
	if out := mustRun(t, "--db", db, "poll"); !strings.Contains(out, "no feeds due") {
		t.Errorf("second poll: %q", out)
	}
	if out := mustRun(t, "--db", db, "poll", "--all"); !strings.Contains(out, "3 not modified") {
		t.Errorf("poll --all:\n%s", out)
	}

	// Remove one feed: its entries go with it.
	mustRun(t, "--db", db, "remove", "1")
	mustJSON(t, mustRun(t, "--db", db, "feeds", "--json"), &fl)
	if len(fl) != 2 {
		t.Errorf("%d feeds after remove", len(fl))
	}
}

func TestCLIOPMLRoundTrip(t *testing.T) {
	dir := t.TempDir()
	db1, db2 := filepath.Join(dir, "1.db"), filepath.Join(dir, "2.db")
	out := mustRun(t, "--db", db1, "import", "testdata/subscriptions.opml")
	if !strings.Contains(out, "imported 4 feeds") {
		t.Fatalf("import: %q", out)
	}
	exported := mustRun(t, "--db", db1, "export")
	path := filepath.Join(dir, "export.opml")
	os.WriteFile(path, []byte(exported), 0o644)
	mustRun(t, "--db", db2, "import", path)
	again := mustRun(t, "--db", db2, "export")
	if again != exported {
		t.Errorf("export after round trip differs:\n%s\n---\n%s", exported, again)
	}
	// Importing the same file again adds nothing.
	if out := mustRun(t, "--db", db2, "import", path); !strings.Contains(out, "imported 0 feeds (4 already subscribed") {
		t.Errorf("re-import: %q", out)
	}
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	db, existing := filepath.Join(dir, "x.db"), filepath.Join(dir, "existing.db")
	mustRun(t, "--db", existing, "add", startDemo(t).URLs()[0])
	notOPML := filepath.Join(dir, "page.opml")
	os.WriteFile(notOPML, []byte("<html><body>not a subscription list</body></html>"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"--db", db, "add"}, "one URL"},
		{[]string{"--db", db, "add", "ftp://x.example/"}, "http"},
		{[]string{"--db", existing, "remove", "99"}, "no feed with ID or URL 99"},
		{[]string{"--db", db, "import", "testdata/nope.opml"}, "no such file"},
		{[]string{"--config", "testdata/nope.yaml", "feeds"}, "no such file"},
		{[]string{"--db", db, "entries", "--since", "3x"}, `"3x" is not a period such as 90m, 24h, 3d or 2w`},
		{[]string{"--db", db, "topics", "--since", "-2d"}, "not a period"},
		{[]string{"--db", existing, "search", "*"}, `search "*" has no words to search for`},
		// A mistyped --db: read commands do not create an empty database.
		{[]string{"--db", db + ".typo", "topics"}, db + ".typo: no storyline database there (check --db"},
		{[]string{"--db", db + ".typo", "feeds"}, db + ".typo: no storyline database there (check --db"},
		{[]string{"--db", db + ".typo", "search", "talks"}, db + ".typo: no storyline database there (check --db"},
		// Nor do commands that change what is stored, with nothing stored.
		{[]string{"--db", db + ".typo", "poll", "--all"}, db + ".typo: no storyline database there (check --db"},
		{[]string{"--db", db + ".typo", "remove", "1"}, db + ".typo: no storyline database there (check --db"},
		{[]string{"--db", db + ".typo", "recluster"}, db + ".typo: no storyline database there (check --db"},
		// A first import that is not OPML leaves no database either.
		{[]string{"--db", db + ".typo", "import", notOPML}, "not <opml>"},
		{[]string{"--db", db + ".typo", "import", dir}, "a directory, not an OPML file"},
		{[]string{"--db", db + ".typo", "import", os.DevNull}, "import " + os.DevNull},
		// A global flag after the command, without its value.
		{[]string{"topics", "--db"}, "flag needs an argument: --db"},
		// A plain-HTTP server named without a scheme, so tried with https.
		{[]string{"--db", db, "add", strings.TrimPrefix(startDemo(t).URLs()[0], "http://")}, "write http://127.0.0.1:"},
	}
	for _, tt := range tests {
		_, stderr, err := runCLI(t, tt.args...)
		if err == nil {
			t.Errorf("%v: no error", tt.args)
			continue
		}
		if msg := err.Error() + stderr; !strings.Contains(msg, tt.want) {
			t.Errorf("%v: %q does not mention %q", tt.args, msg, tt.want)
		}
	}
	if _, err := os.Stat(db + ".typo"); err == nil {
		t.Error("a command created the mistyped database")
	}
}

func TestCLIAddDiscoversFeeds(t *testing.T) {
	srv := startDemo(t)
	feedURL := srv.URLs()[0]
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>An outlet</title>
<link rel="alternate" type="application/rss+xml" title="News" href="%s"></head><body>Hello</body></html>`, feedURL)
	}))
	defer page.Close()
	db := filepath.Join(t.TempDir(), "d.db")
	out := mustRun(t, "--db", db, "add", page.URL+"/")
	if !strings.Contains(out, "found feed "+feedURL) {
		t.Errorf("add on an HTML page: %q", out)
	}
	var fl []map[string]any
	mustJSON(t, mustRun(t, "--db", db, "feeds", "--json"), &fl)
	if len(fl) != 1 || fl[0]["url"] != feedURL {
		t.Errorf("feeds after discovery: %v", fl)
	}
	// A page with no feed at all is refused with the reason, and nothing
	// is subscribed.
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><head><title>No feeds</title></head><body>nothing</body></html>")
	}))
	defer bare.Close()
	_, _, err := runCLI(t, "--db", db, "add", bare.URL+"/")
	if err == nil || !strings.Contains(err.Error(), "HTML") {
		t.Errorf("add on a page without feeds: %v", err)
	}
	mustJSON(t, mustRun(t, "--db", db, "feeds", "--json"), &fl)
	if len(fl) != 1 {
		t.Errorf("%d feeds after a failed add", len(fl))
	}
}

func TestGlobalFlagsAfterTheCommand(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"serve", "--demo", "--db", "x.db"}, []string{"--db", "x.db", "serve", "--demo"}},
		{[]string{"feeds", "--json", "-config=c.yaml"}, []string{"-config=c.yaml", "feeds", "--json"}},
		{[]string{"--db", "a.db", "entries", "--limit", "3"}, []string{"--db", "a.db", "entries", "--limit", "3"}},
		{[]string{"search", "--", "--db"}, []string{"search", "--", "--db"}},
	}
	for _, tt := range tests {
		if got, err := hoistGlobalFlags(tt.in); err != nil || strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("hoistGlobalFlags(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	db := filepath.Join(t.TempDir(), "after.db")
	mustRun(t, "add", startDemo(t).URLs()[0], "--db", db)
	if out := mustRun(t, "feeds", "--db", db); !strings.Contains(out, "127.0.0.1") {
		t.Errorf("--db after the command was not used:\n%s", out)
	}
}

// A feed whose server is busy right now is still subscribed (with a
// warning); one that does not exist is not.
func TestCLIAddBusyAndMissing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/busy" {
			w.Header().Set("Retry-After", "120")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "b.db")
	out, stderr, err := runCLI(t, "--db", db, "add", srv.URL+"/busy")
	if err != nil || !strings.Contains(out, "added") || !strings.Contains(stderr, "subscribing anyway") {
		t.Errorf("add of a busy feed: %v\n%s%s", err, out, stderr)
	}
	if _, _, err := runCLI(t, "--db", db, "add", srv.URL+"/gone"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("add of a missing feed: %v", err)
	}
}

// poll fails only when every feed failed: one bad feed among good ones is
// reported in the summary, not in the exit status.
func TestCLIPollExitStatus(t *testing.T) {
	srv := startDemo(t)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer broken.Close()
	db := filepath.Join(t.TempDir(), "p.db")
	mustRun(t, "--db", db, "add", srv.URLs()[0])
	mustRun(t, "--db", db, "add", broken.URL+"/feed") // busy server: subscribed with a warning
	out, _, err := runCLI(t, "--db", db, "poll")
	if err != nil || !strings.Contains(out, ", 1 error") || strings.Contains(out, "1 errors") {
		t.Errorf("one of two feeds failing: %v\n%s", err, out)
	}
	// Feeds in the order `feeds` lists them; an error said once, not with
	// the URL its row shows already.
	if lines := strings.Split(out, "\n"); len(lines) < 2 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "1 ") ||
		!strings.HasPrefix(strings.TrimSpace(lines[1]), "2 ") || strings.Count(out, broken.URL+"/feed") != 1 {
		t.Errorf("poll summary:\n%s", out)
	}
	if fl := mustRun(t, "--db", db, "feeds"); strings.Count(fl, broken.URL+"/feed") != 1 || !strings.Contains(fl, "last error: HTTP 500") {
		t.Errorf("feeds with an error:\n%s", fl)
	}
	mustRun(t, "--db", db, "remove", "1")
	if _, _, err := runCLI(t, "--db", db, "poll", "--all"); err == nil || !strings.Contains(err.Error(), "every feed failed") {
		t.Errorf("all feeds failing: %v", err)
	}
}

// TestSinceTakesDays: both commands that take --since accept days.
func TestSinceTakesDays(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	mustRun(t, "--db", db, "import", "testdata/subscriptions.opml")
	for _, cmd := range []string{"entries", "topics"} {
		if _, stderr, err := runCLI(t, "--db", db, cmd, "--since", "3d"); err != nil {
			t.Errorf("%s --since 3d: %v %s", cmd, err, stderr)
		}
	}
}

// With fetch.allow_private_networks off, `add` refuses a loopback feed
// without sending it a request, and says which setting to change;
// fetch.allow_hosts lets it through. Link-local addresses are refused even
// with the default settings.
func TestCLIAddRefusesPrivateAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>LAN</title><item><title>A</title></item></channel></rss>`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	config := func(name, fetch string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("fetch:\n"+fetch), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	deny := config("deny.yaml", "  allow_private_networks: false\n")
	allow := config("allow.yaml", "  allow_private_networks: false\n  allow_hosts: [127.0.0.1]\n")

	_, _, err := runCLI(t, "--config", deny, "--db", db, "add", srv.URL+"/feed")
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1") || !strings.Contains(err.Error(), "fetch.allow_private_networks") {
		t.Errorf("add of a loopback feed with private networks refused: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the refused server answered %d requests", n)
	}
	// add looks before it subscribes: the database is not even created.
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused add left a database behind (%v)", err)
	}

	if out := mustRun(t, "--config", allow, "--db", db, "add", srv.URL+"/feed"); !strings.Contains(out, "added") {
		t.Errorf("add with the host in fetch.allow_hosts: %q", out)
	}

	_, _, err = runCLI(t, "--db", db, "add", "http://169.254.169.254:9/latest/meta-data/")
	if err == nil || !strings.Contains(err.Error(), "169.254.169.254 (link-local") || !strings.Contains(err.Error(), "fetch.allow_hosts") {
		t.Errorf("add of a link-local address with the default settings: %v", err)
	}
}

// The demo serves its feeds on loopback, and works when private networks
// are refused.
func TestAllowDemoHosts(t *testing.T) {
	urls := []string{"http://127.0.0.1:4000/a.xml", "http://127.0.0.1:4000/b.xml"}
	fc := DefaultConfig().Fetch
	if got := allowDemoHosts(fc, urls); len(got.AllowHosts) != 0 {
		t.Errorf("private networks allowed: AllowHosts = %q, want none added", got.AllowHosts)
	}
	fc.AllowPrivateNetworks = false
	fc.AllowHosts = []string{"feeds.lan"}
	got := allowDemoHosts(fc, urls)
	if want := []string{"feeds.lan", "127.0.0.1"}; !slices.Equal(got.AllowHosts, want) {
		t.Errorf("AllowHosts = %q, want %q", got.AllowHosts, want)
	}
	if len(fc.AllowHosts) != 1 {
		t.Errorf("the configuration's own list was changed: %q", fc.AllowHosts)
	}
}

// TestCLIImportLargeOrBroken: a large OPML is imported whole; one broken
// halfway adds nothing, and says where it broke.
func TestCLIImportLargeOrBroken(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "big.db")
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><opml version="2.0"><body><outline text="News">`)
	for i := range 20_000 {
		fmt.Fprintf(&b, `<outline type="rss" text="Feed %d" xmlUrl="https://f%d.example/rss?token=t%d"/>`, i, i, i)
	}
	whole := b.String() + `</outline></body></opml>`
	broken := b.String() + `<outline xmlUrl="https://last.example/rss"` // cut in a tag
	os.WriteFile(filepath.Join(dir, "broken.opml"), []byte(broken), 0o644)
	os.WriteFile(filepath.Join(dir, "whole.opml"), []byte(whole), 0o644)

	_, _, err := runCLI(t, "--db", db, "import", filepath.Join(dir, "broken.opml"))
	if err == nil || !strings.Contains(err.Error(), "broken.opml") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("import of a broken OPML: %v", err)
	}
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a broken first import left a database behind: %v", err)
	}
	if out := mustRun(t, "--db", db, "import", filepath.Join(dir, "whole.opml")); !strings.Contains(out, "imported 20000 feeds (0 already subscribed, 0 skipped)") {
		t.Errorf("import: %q", out)
	}
	os.WriteFile(filepath.Join(dir, "broken.opml"), []byte(strings.ReplaceAll(broken, "https://f", "https://g")), 0o644)
	if _, _, err := runCLI(t, "--db", db, "import", filepath.Join(dir, "broken.opml")); err == nil {
		t.Error("a broken import into a database was not refused")
	}
	if out := mustRun(t, "--db", db, "feeds"); strings.Contains(out, "g1.example") {
		t.Errorf("a broken import subscribed feeds:\n%.300s", out)
	}
	if out := mustRun(t, "--db", db, "import", filepath.Join(dir, "whole.opml")); !strings.Contains(out, "imported 0 feeds (20000 already subscribed") {
		t.Errorf("re-import: %q", out)
	}
	if out := mustRun(t, "--db", db, "export"); strings.Contains(out, "token=") || !strings.Contains(out, "https://f19999.example/rss") {
		t.Errorf("export after import:\n%.500s", out)
	}
}

// TestCLIPruneAndBackup: prune applies the configured retention, and
// backup writes a database the other commands open.
func TestCLIPruneAndBackup(t *testing.T) {
	now := time.Now().UTC()
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		var b strings.Builder
		b.WriteString(`<rss version="2.0"><channel><title>Dated</title>`)
		for i, age := range []time.Duration{time.Hour, 10 * 24 * time.Hour, 40 * 24 * time.Hour, 200 * 24 * time.Hour} {
			fmt.Fprintf(&b, "<item><title>Story %d</title><guid>s%d</guid><pubDate>%s</pubDate></item>", i, i, now.Add(-age).Format(time.RFC1123Z))
		}
		b.WriteString("</channel></rss>")
		io.WriteString(w, b.String())
	}))
	defer src.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	cfg := filepath.Join(dir, "c.yaml")
	mustRun(t, "--db", db, "add", src.URL+"/feed.xml")
	if out := mustRun(t, "--db", db, "prune"); !strings.Contains(out, "nothing to prune") {
		t.Errorf("prune with the default retention: %q", out)
	}
	// A poll does not store what the retention would prune.
	os.WriteFile(cfg, []byte("retention:\n  max_age: 90d\n"), 0o644)
	if out := mustRun(t, "--config", cfg, "--db", db, "poll", "--all"); !strings.Contains(out, "3 new") || !strings.Contains(out, "1 item older than retention.max_age skipped") {
		t.Errorf("poll: %q", out)
	}
	os.WriteFile(cfg, []byte("retention:\n  max_age: 30d\n"), 0o644)
	if out := mustRun(t, "--config", cfg, "--db", db, "prune"); !strings.Contains(out, "pruned 1 entries (older than 720h0m0s)") {
		t.Errorf("prune: %q", out)
	}
	backup := filepath.Join(dir, "copy.db")
	if out := mustRun(t, "--db", db, "backup", backup); !strings.Contains(out, "backed up") {
		t.Errorf("backup: %q", out)
	}
	if out := mustRun(t, "--db", backup, "entries"); !strings.Contains(out, "Story 0") || !strings.Contains(out, "Story 1") || strings.Contains(out, "Story 2") {
		t.Errorf("entries of the backup:\n%s", out)
	}
	if _, _, err := runCLI(t, "--db", db, "backup", backup); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup over an existing file: %v", err)
	}
	os.WriteFile(cfg, []byte("retention:\n  max_age: 90x\n"), 0o644)
	if _, _, err := runCLI(t, "--config", cfg, "--db", db, "prune"); err == nil || !strings.Contains(err.Error(), `retention.max_age: "90x" is not a period such as 90d`) {
		t.Errorf("a bad max_age: %v", err)
	}
	os.WriteFile(cfg, []byte("retention:\n  max_per_feed: 50\n"), 0o644)
	if _, _, err := runCLI(t, "--config", cfg, "--db", db, "prune"); err == nil || !strings.Contains(err.Error(), "retention.max_per_feed: must be 0 (no limit) or at least poll.max_items (1000)") {
		t.Errorf("a max_per_feed below max_items: %v", err)
	}
}

// TestCommandHelp: "help CMD" (and "CMD --help") shows each command's
// arguments, what it does and its flags, on standard output, as a success.
// TestJSONOutputUnescaped: the CLI's JSON keeps "&" and "<" as written.
func TestJSONOutputUnescaped(t *testing.T) {
	db := filepath.Join(t.TempDir(), "j.db")
	mustRun(t, "--db", db, "add", startDemo(t).URLs()[0], "--title", "Arts & <Letters>")
	if out := mustRun(t, "--db", db, "feeds", "--json"); !strings.Contains(out, `"Arts & <Letters>"`) {
		t.Errorf("feeds --json: %s", out)
	}
}

func TestCommandHelp(t *testing.T) {
	for _, c := range commands() {
		out, stderr, err := runCLI(t, "help", c.name)
		var ee exitError
		if err != nil && (!errors.As(err, &ee) || ee.code != 0) {
			t.Errorf("help %s: %v (%s)", c.name, err, stderr)
		}
		want := strings.TrimSpace("Usage: storyline " + c.name + " " + c.args)
		if !strings.Contains(out, want) || !strings.Contains(out, c.help) {
			t.Errorf("help %s printed %q, want %q and %q", c.name, out, want, c.help)
		}
	}
	_, stderr, _ := runCLI(t, "poll", "--help")
	if !strings.Contains(stderr, "Usage: storyline poll [--all]") || !strings.Contains(stderr, "-all") {
		t.Errorf("poll --help printed %q", stderr)
	}
}

// TestHelpDespiteBrokenConfig: help needs no configuration, so a broken
// one does not hide it; the command itself still refuses the file.
func TestHelpDespiteBrokenConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(cfg, []byte("poll_interval: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ee exitError
	if out, stderr, err := runCLI(t, "--config", cfg, "help", "poll"); err != nil && (!errors.As(err, &ee) || ee.code != 0) ||
		!strings.Contains(out, "Usage: storyline poll") {
		t.Errorf("help poll with a broken config: %v, %q %q", err, out, stderr)
	}
	if _, stderr, err := runCLI(t, "--config", cfg, "poll", "-h"); err != nil && (!errors.As(err, &ee) || ee.code != 0) ||
		!strings.Contains(stderr, "Usage: storyline poll") {
		t.Errorf("poll -h with a broken config: %v, %q", err, stderr)
	}
	if _, _, err := runCLI(t, "--config", cfg, "poll"); err == nil || !strings.Contains(err.Error(), cfg) {
		t.Errorf("poll with a broken config: %v, want an error naming %s", err, cfg)
	}
}

// TestHelpShowsTheConfigsDefaults: a flag whose default the config sets
// shows the config's value in help, as the command would use it.
func TestHelpShowsTheConfigsDefaults(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("serve:\n  listen: 127.0.0.1:9191\nlog_format: json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, _ := runCLI(t, "--config", cfg, "serve", "-h")
	if !strings.Contains(stderr, `(default "127.0.0.1:9191")`) || !strings.Contains(stderr, `(default "json")`) {
		t.Errorf("serve -h with listen and log_format in the config:\n%s", stderr)
	}
}

// TestCLIAddChangesASubscription: add on a feed subscribed already sets
// the title and interval it is given (days allowed, as in the config) and
// enables a feed a 410 had disabled once it answers again: a user never
// has to remove a feed, and lose its stories, to change it.
func TestCLIAddChangesASubscription(t *testing.T) {
	var gone, busy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gone.Load() {
			http.Error(w, "gone", http.StatusGone)
			return
		}
		if busy.Load() {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour News</title><link>https://harbour.example/</link>
<item><title>Ferry timetable changes for winter</title><link>https://harbour.example/ferry</link><guid>ferry</guid></item>
</channel></rss>`)
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "c.db")
	mustRun(t, "--db", db, "add", srv.URL+"/feed.xml")
	gone.Store(true)
	runCLI(t, "--db", db, "poll", "--all")
	if out := mustRun(t, "--db", db, "poll", "--all"); !strings.Contains(out, "1 feed is disabled") {
		t.Errorf("poll with the only feed disabled: %q, want it to say the feed is disabled", out)
	}
	if _, _, err := runCLI(t, "--db", db, "add", srv.URL+"/feed.xml"); err == nil || !strings.Contains(err.Error(), "410") {
		t.Errorf("add while the feed still answers 410: %v, want the 410", err)
	}
	gone.Store(false)
	busy.Store(true) // an answer, but not a feed: the feed stays off
	if out, stderr, err := runCLI(t, "--db", db, "add", srv.URL+"/feed.xml"); err != nil || strings.Contains(out, "enabled again") ||
		!strings.Contains(stderr, "stays disabled") {
		t.Errorf("add while the feed answers 503: %v, %q %q; want it left disabled, and said", err, out, stderr)
	}
	busy.Store(false)
	out := mustRun(t, "--db", db, "add", srv.URL+"/feed.xml", "--title", "Harbour", "--interval", "1d")
	for _, want := range []string{"already subscribed", `title: "Harbour"`, "interval: 1d", "enabled again (it was disabled: 410 Gone"} {
		if !strings.Contains(out, want) {
			t.Errorf("add of the disabled feed printed %q, want %q", out, want)
		}
	}
	var fs []struct {
		Title    string `json:"title"`
		Disabled bool   `json:"disabled"`
		Entries  int    `json:"entries"`
	}
	mustRun(t, "--db", db, "poll", "--all")
	mustJSON(t, mustRun(t, "--db", db, "feeds", "--json"), &fs)
	if len(fs) != 1 || fs[0].Title != "Harbour" || fs[0].Disabled || fs[0].Entries != 1 {
		t.Errorf("feeds after add and poll: %+v, want Harbour, enabled, its story stored", fs)
	}
	if out := mustRun(t, "--db", db, "add", srv.URL+"/feed.xml", "--title", "Harbour"); strings.Count(out, "\n") != 1 {
		t.Errorf("add with nothing to change printed %q, want the one line", out)
	}
	// A feed the config lists takes its title from there at every start:
	// add refuses a change that would not last.
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("database: %s\nfeeds:\n  - url: %s/feed.xml\n    title: Harbour\n", db, srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "--config", cfg, "add", srv.URL+"/feed.xml", "--title", "Mine"); err == nil || !strings.Contains(err.Error(), "listed in the config") {
		t.Errorf("add --title on a feed of the config: %v, want it refused", err)
	}
}

// TestCLIWordsAndTimes: counts agree with their nouns ("1 story from 1
// outlet"), times in tables carry the year, and spans read as a person
// writes them ("in 30m", not "in 30m0s").
func TestCLIWordsAndTimes(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		45 * time.Second: "in 45s", 30*time.Minute + 20*time.Second: "in 30m", time.Hour: "in 1h",
		26*time.Hour + 10*time.Minute: "in 26h", 73 * time.Hour: "in 3d",
	} {
		if got := until(now, now.Add(d), false); got != want {
			t.Errorf("until %v = %q, want %q", d, got, want)
		}
	}
	srv := startDemo(t)
	db := filepath.Join(t.TempDir(), "w.db")
	mustRun(t, "--db", db, "add", srv.URLs()[0])
	mustRun(t, "--db", db, "poll")
	var topics []struct {
		ID   int64 `json:"id"`
		Size int   `json:"size"`
	}
	mustJSON(t, mustRun(t, "--db", db, "topics", "--json"), &topics)
	one := int64(0)
	for _, tp := range topics {
		if tp.Size == 1 {
			one = tp.ID
		}
	}
	if one == 0 {
		t.Fatal("the demo outlet gave no storyline of one story")
	}
	if out := mustRun(t, "--db", db, "topic", fmt.Sprint(one)); !strings.Contains(out, "1 story from 1 outlet,") {
		t.Errorf("topic of one story says:\n%s", out)
	}
	if out := mustRun(t, "--db", db, "topics"); !regexp.MustCompile(`\b20\d\d-\d\d-\d\d \d\d:\d\d\b`).MatchString(out) {
		t.Errorf("topics shows no dated times:\n%s", out)
	}
}

// TestCLIAddBrokenFeedIsNotSwapped: a URL given as a feed that answers an
// empty body or plain text is refused as a broken feed, naming what it
// is, even when the site has a feed at a usual path: only an HTML page is
// looked through for the site's feeds.
func TestCLIAddBrokenFeedIsNotSwapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/rss.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title><item><title>One</title><guid>1</guid></item></channel></rss>`)
		case "/empty":
		case "/notes.txt":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "just some notes\n")
		case "/page":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<!doctype html><html><head><title>Site</title></head><body>Hello</body></html>")
		case "/bare-page": // no doctype: it sniffs as other markup, its Content-Type says HTML
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<meta charset=utf-8><title>Site</title><link rel=alternate type="application/rss+xml" href="/rss.xml">`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "s.db")
	for path, want := range map[string]string{"/empty": "an empty body", "/notes.txt": "content starting with"} {
		if out, _, err := runCLI(t, "--db", db, "add", srv.URL+path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("add %s: %v (%q), want an error saying it is %s", path, err, out, want)
		}
	}
	// A page without feed links still finds the site's feed.
	if out := mustRun(t, "--db", db, "add", srv.URL+"/page"); !strings.Contains(out, "found feed "+srv.URL+"/rss.xml") {
		t.Errorf("add of a page: %q, want the site's feed found", out)
	}
	if out := mustRun(t, "--db", db, "add", srv.URL+"/bare-page"); !strings.Contains(out, "already subscribed") {
		t.Errorf("add of a page without a doctype: %q, want its feed found", out)
	}
}

// TestServeBadListenLeavesNoDatabase: a listen address serve cannot use,
// mistyped or taken, fails before the database is opened, so a new one
// is not left behind.
func TestServeBadListenLeavesNoDatabase(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, addr := range []string{"18300", taken.Addr().String()} {
		db := filepath.Join(t.TempDir(), "s.db")
		_, _, err := runCLI(t, "--db", db, "serve", "--listen", addr)
		if err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("serve --listen %s: %v, want an error naming the address", addr, err)
		}
		if _, serr := os.Stat(db); !errors.Is(serr, fs.ErrNotExist) {
			t.Errorf("serve --listen %s left %s behind (%v)", addr, db, serr)
		}
	}
}

// TestCLIEntriesWithoutTitles: a story without a title is shown by the
// start of its text, marked, as the served feeds do; a search that finds
// nothing says so.
func TestCLIEntriesWithoutTitles(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Notes</title>
<item><guid>1</guid><description>&lt;p&gt;Ferry &lt;b&gt;timetable&lt;/b&gt; changes for winter&lt;/p&gt;</description></item>
<item><guid>2</guid><link>https://notes.example/2</link></item>
</channel></rss>`)
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "u.db")
	mustRun(t, "--db", db, "add", srv.URL+"/feed.xml")
	mustRun(t, "--db", db, "poll")
	out := mustRun(t, "--db", db, "entries")
	if !strings.Contains(out, "(untitled) Ferry timetable changes for winter") || !strings.Contains(out, "(untitled)\n") {
		t.Errorf("entries without titles:\n%s", out)
	}
	if out := mustRun(t, "--db", db, "search", "zeppelin"); !strings.Contains(out, `no stories match "zeppelin"`) {
		t.Errorf("search without hits printed %q", out)
	}
}

// TestCheckFeedURL: what add and import store for a URL.
func TestCheckFeedURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://news.example/feed.xml":      "https://news.example/feed.xml",
		"https://news.example/feed.xml#top":  "https://news.example/feed.xml", // the fragment never reaches the server
		"news.example/feed.xml#top":          "https://news.example/feed.xml",
		"http://news.example/rss?cat=world#": "http://news.example/rss?cat=world",
		"https://news.example/feed.xml#12":   "https://news.example/feed.xml#12", // how feeds shows a URL two feeds share
	} {
		if got, err := checkFeedURL(raw); err != nil || got != want {
			t.Errorf("checkFeedURL(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"ftp://news.example/feed", "https://", "::"} {
		if got, err := checkFeedURL(raw); err == nil {
			t.Errorf("checkFeedURL(%q) = %q, want an error", raw, got)
		}
	}
}

// TestRepeatLog: an error that comes back every two seconds is logged the
// first time and then once a minute, with the count of those not logged;
// another error is logged at once.
func TestRepeatLog(t *testing.T) {
	var r repeatLog
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	logged := 0
	for i := range 45 { // 90 s of one error every 2 s
		if n, ok := r.due("connection refused", now.Add(time.Duration(2*i)*time.Second)); ok {
			logged++
			if logged == 2 && n != 29 {
				t.Errorf("second log says %d repeats, want 29", n)
			}
		}
	}
	if logged != 2 {
		t.Errorf("logged %d times in 90 s, want 2", logged)
	}
	if _, ok := r.due("no such host", now.Add(91*time.Second)); !ok {
		t.Error("a new error was held back")
	}
}

// TestOneServePerSQLiteDatabase: a second serve on a SQLite file a first
// one is serving refuses to start, naming the first's process, so that
// no feed is polled twice; once the first has stopped, serve starts.
func TestOneServePerSQLiteDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "one.db")
	d := startDaemon(t, "--db", db, "serve", "--listen", "127.0.0.1:0")
	_, _, err := runCLI(t, "--db", db, "serve", "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "another storyline serve (pid ") || !strings.Contains(err.Error(), db) {
		t.Fatalf("second serve on one database: %v, want a refusal naming the first", err)
	}
	d.stop(t)
	release, err := lockServe(db)
	if err != nil {
		t.Fatalf("after the first serve stopped: %v", err)
	}
	release()
}

// TestBoilerplateJoinsNothing: an outlet that ends every item with the
// same sentence does not have its unrelated stories joined by it on the
// first poll, when no statistics discount the sentence yet.
func TestBoilerplateJoinsNothing(t *testing.T) {
	items := []string{ // short items, as many feeds give: the boilerplate is most of the text
		"Mayor opens bridge|Traffic from Monday.",
		"Stocks fall sharply|Banks lead losses.",
		"Zoo welcomes panda|Cub doing well.",
		"Hawks win final|Fans celebrate.",
		"Free flu vaccines|Book from Monday.",
		"Library hours extended|Open until nine.",
		"Rain floods farm roads|Fields under water.",
		"Choir tours Austria|Forty pupils sing.",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Plainville Courier</title><link>https://courier.example/</link>`)
		for i, it := range items {
			title, body, _ := strings.Cut(it, "|")
			fmt.Fprintf(w, `<item><guid>%d</guid><title>%s</title><link>https://courier.example/%d</link><description>%s This article first appeared on Plainville Courier, your trusted source for local news.</description></item>`,
				i, title, i, body)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "b.db")
	mustRun(t, "--db", db, "add", srv.URL+"/feed.xml")
	mustRun(t, "--db", db, "poll")
	var topics []struct {
		Size int    `json:"size"`
		Name string `json:"name"`
	}
	mustJSON(t, mustRun(t, "--db", db, "topics", "--json", "--limit", "0"), &topics)
	if len(topics) != len(items) {
		t.Errorf("%d storylines for %d unrelated stories: %+v", len(topics), len(items), topics)
	}
	if out := mustRun(t, "--db", db, "search", "appeared"); !strings.Contains(out, "no stories match") {
		t.Errorf("search finds the boilerplate:\n%s", out)
	}
}

// version names the commit a binary was built from, as Go records it.
func TestVersionWithCommit(t *testing.T) {
	for _, tc := range []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, version},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "4c82c4d3337c0123456789"}, {Key: "vcs.time", Value: "2026-12-07T15:40:00Z"},
			{Key: "vcs.modified", Value: "false"}}, version + " (4c82c4d3337c, 2026-12-07)"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}, version + " (abc, modified)"},
	} {
		if got := versionWith(tc.settings); got != tc.want {
			t.Errorf("versionWith(%v) = %q, want %q", tc.settings, got, tc.want)
		}
	}
}
