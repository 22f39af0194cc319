package main

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// The crash test's load: crashFeeds outlets of crashItems stories each.
const (
	crashFeeds = 200
	crashItems = 50
)

// newsFixture returns nFeeds RSS documents of perFeed items each, news-like:
// made-up events (one for every twelve stories), each reported by several
// outlets within half a day, some running the wire's headline word for
// word, others writing their own. The text is ours and the same on every call.
// Items are dated between end-96h and end.
func newsFixture(nFeeds, perFeed int, end time.Time) [][]byte {
	rng := rand.New(rand.NewPCG(2026, 12))
	syllables := strings.Fields("ar bel cor dan el fen gar hal is jor ka lem mor nal os par quin ros sel tor ul van wes yar zen")
	name := func() string {
		var b strings.Builder
		for range 2 + rng.IntN(2) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		s := b.String()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	subjects := strings.Fields("council parliament court union airline hospital university port railway bank " +
		"ministry police museum orchestra club festival mine factory observatory harbour")
	actions := strings.Fields("approves rejects delays announces suspends expands investigates closes reopens " +
		"funds sells builds cancels extends challenges")
	objects := strings.Fields("budget merger strike tunnel bridge election reform treaty vaccine stadium " +
		"pipeline ferry tariff curfew dam wildfire flood drought satellite exhibition")
	common := strings.Fields("officials said on monday the new plan this week people local year report " +
		"statement after before during their would could expected according spokesperson")
	pick := func(ws []string) string { return ws[rng.IntN(len(ws))] }

	type event struct {
		place, person, subject, action, object string
		detail                                 []string
		at                                     time.Time
		wire                                   string
	}
	events := make([]event, nFeeds*perFeed/12)
	for i := range events {
		ev := &events[i]
		ev.place, ev.person = name(), name()+" "+name()
		ev.subject, ev.action, ev.object = pick(subjects), pick(actions), pick(objects)
		for range 6 {
			ev.detail = append(ev.detail, strings.ToLower(name()))
		}
		ev.at = end.Add(-96*time.Hour + time.Duration(rng.Int64N(int64(84*time.Hour))))
		ev.wire = fmt.Sprintf("%s %s %s %s", ev.place, ev.subject, ev.action, ev.object)
	}
	headline := func(ev *event) string {
		switch rng.IntN(5) {
		case 0, 1:
			return ev.wire // syndicated copy, word for word
		case 2:
			return fmt.Sprintf("%s: %s %s %s, says %s", ev.place, ev.subject, ev.action, ev.object, ev.person)
		case 3:
			return fmt.Sprintf("%s %s in %s after %s %s", strings.ToUpper(ev.object[:1])+ev.object[1:], ev.detail[0], ev.place, ev.subject, ev.action)
		default:
			return fmt.Sprintf("%s %s %s, %s %s", ev.person, ev.action, ev.object, ev.place, ev.detail[1])
		}
	}
	out := make([][]byte, nFeeds)
	for f := range out {
		var b bytes.Buffer
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Outlet %d</title>`+
			`<link>https://outlet%d.example/</link><description>Crash test outlet</description>`, f, f)
		for i := range perFeed {
			ev := &events[rng.IntN(len(events))]
			pub := ev.at.Add(time.Duration(rng.Int64N(int64(12 * time.Hour)))).Truncate(time.Second)
			if pub.After(end) {
				pub = end
			}
			var body []string
			for range 3 {
				body = append(body, pick(ev.detail), pick(common), pick(common))
			}
			fmt.Fprintf(&b, `<item><title>%s</title><link>https://outlet%d.example/%d/story-%d</link>`+
				`<guid isPermaLink="false">outlet%d-%d</guid><pubDate>%s</pubDate>`+
				`<description>%s %s %s %s. %s said %s.</description></item>`,
				headline(ev), f, i, i, f, i, pub.Format(time.RFC1123Z),
				ev.place, ev.subject, ev.object, strings.Join(body, " "), ev.person, strings.Join(body[:4], " "))
		}
		b.WriteString("</channel></rss>")
		out[f] = b.Bytes()
	}
	return out
}

// fixtureServer serves the fixture's documents at /feed/N.xml and counts
// the documents it has sent.
type fixtureServer struct {
	*httptest.Server
	docs [][]byte
	sent atomic.Int64 // documents sent whole (not 304s)
}

func newFixtureServer(t *testing.T, docs [][]byte) *fixtureServer {
	s := &fixtureServer{docs: docs}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/feed/"), ".xml"))
		if err != nil || n < 0 || n >= len(s.docs) {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"%d"`, n)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("ETag", etag)
		w.Write(s.docs[n])
		s.sent.Add(1)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fixtureServer) urls() []string {
	u := make([]string, len(s.docs))
	for i := range u {
		u[i] = fmt.Sprintf("%s/feed/%d.xml", s.URL, i)
	}
	return u
}

// process is a storyline command run as a process of its own.
type process struct {
	cmd    *exec.Cmd
	out    lockedBuffer
	exited chan error // receives Wait's result, once
	waited bool
	err    error
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(os.Args[0], args...), exited: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), "STORYLINE_AS_MAIN=1")
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if !p.waited {
			p.cmd.Process.Kill()
			p.wait()
		}
	})
	return p
}

// wait waits for the process to exit and returns how it exited.
func (p *process) wait() error {
	if !p.waited {
		p.err, p.waited = <-p.exited, true
	}
	return p.err
}

// kill ends the process with SIGKILL, as a crash, a power cut (for the
// process, not the disk) or the OOM killer would.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	p.wait()
}

// waitUntil polls cond until it holds and reports true, or reports false
// when the process exits first.
func (p *process) waitUntil(t *testing.T, what string, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		select {
		case err := <-p.exited:
			p.err, p.waited = err, true
			return false
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 3 min for %s\n%s", what, lastLines(p.out.String(), 20))
		}
	}
	return true
}

// openSQL opens the database file directly: read-only as a reader next
// to the storyline processes, or for writing (the full-text index check
// is an INSERT) once none is left.
func openSQL(t *testing.T, path string, write bool) *sql.DB {
	t.Helper()
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)"
	if !write {
		// Read-only at the file level, not only query_only: a connection
		// that may write checkpoints the WAL into the file and deletes it
		// when it is the last to close, and would do the recovery that a
		// restarted storyline is to do after a kill.
		dsn += "&mode=ro"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// count runs a one-number query on the database at path, in a read-only
// connection of its own.
func count(t *testing.T, path, query string, args ...any) int64 {
	t.Helper()
	db := openSQL(t, path, false)
	defer db.Close()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checkCrashInvariants checks what must hold in the database at path
// whenever no process has it open, whatever the moment a process was
// killed: a sound file, every fixture entry at most once, a feed's
// entries stored with its validators or neither, every entry either
// clustered into exactly one storyline or pending, and topic sizes that
// match their members. With complete, the ingest must also be whole, and
// the file is checked in full (integrity_check and the full-text index);
// otherwise with quick_check, which is all the time under -race allows
// after every kill: a file damaged by a kill stays damaged, and is caught
// at the end.
func checkCrashInvariants(t *testing.T, path string, complete bool) {
	t.Helper()
	db := openSQL(t, path, true)
	defer db.Close()
	check := "quick_check"
	if complete {
		check = "integrity_check"
		if _, err := db.Exec("INSERT INTO entries_fts (entries_fts, rank) VALUES ('integrity-check', 0)"); err != nil {
			t.Errorf("full-text index damaged: %v", err)
		}
		// The index is contentless (migration 0012): FTS5 cannot check
		// it against the entries, its rowids can be.
		var missing, extra int
		if err := db.QueryRow(`SELECT
			(SELECT COUNT(*) FROM entries WHERE id NOT IN (SELECT rowid FROM entries_fts)),
			(SELECT COUNT(*) FROM entries_fts WHERE rowid NOT IN (SELECT id FROM entries))`).Scan(&missing, &extra); err != nil {
			t.Errorf("full-text index: %v", err)
		} else if missing != 0 || extra != 0 {
			t.Errorf("full-text index out of step: %d entries missing from it, %d rows of it without an entry", missing, extra)
		}
	}
	var res string
	if err := db.QueryRow("PRAGMA " + check).Scan(&res); err != nil || res != "ok" {
		t.Errorf("%s: %q, %v", check, res, err)
	}
	checks := []struct {
		what  string
		query string
		want  int64
	}{
		{"foreign key violations", "SELECT COUNT(*) FROM pragma_foreign_key_check", 0},
		{"feeds", "SELECT COUNT(*) FROM feeds", crashFeeds},
		{"feeds subscribed twice", "SELECT COUNT(*) FROM (SELECT added_url FROM feeds GROUP BY added_url HAVING COUNT(*) > 1)", 0},
		{"entries stored twice (feed and guid)", "SELECT COUNT(*) FROM (SELECT 1 FROM entries GROUP BY feed_id, guid HAVING COUNT(*) > 1)", 0},
		{"entries stored twice (feed and link)", "SELECT COUNT(*) FROM (SELECT 1 FROM entries GROUP BY feed_id, link HAVING COUNT(*) > 1)", 0},
		{"entries not from the fixture", "SELECT COUNT(*) FROM entries WHERE guid NOT GLOB 'outlet*-*'", 0},
		// The validators (ETag) and the entries of a poll are saved in one
		// transaction: a validator without its entries would make the next
		// poll a 304 and lose them for good.
		{"feeds with a validator but not all their entries, or entries without a validator",
			fmt.Sprintf(`SELECT COUNT(*) FROM feeds f WHERE (SELECT COUNT(*) FROM entries e WHERE e.feed_id = f.id) != CASE WHEN f.etag != '' THEN %d ELSE 0 END`, crashItems), 0},
		{"entries neither clustered nor pending", `SELECT COUNT(*) FROM entries e WHERE NOT EXISTS (SELECT 1 FROM topic_entries te WHERE te.entry_id = e.id)
			AND NOT EXISTS (SELECT 1 FROM pending_entries p WHERE p.entry_id = e.id)`, 0},
		{"entries both clustered and pending", "SELECT COUNT(*) FROM pending_entries p JOIN topic_entries te USING (entry_id)", 0},
		{"storyline members without a storyline", "SELECT COUNT(*) FROM topic_entries te WHERE NOT EXISTS (SELECT 1 FROM topics t WHERE t.id = te.topic_id)", 0},
		{"storylines whose size is not their member count", `SELECT COUNT(*) FROM topics t
			WHERE t.size != (SELECT COUNT(*) FROM topic_entries te WHERE te.topic_id = t.id)`, 0},
		// (The size inside the saved state, a binary form, is checked by
		// the ingest tests' checkConsistent.)
		{"empty storylines", "SELECT COUNT(*) FROM topics WHERE size < 1", 0},
		{"aliases of missing storylines", "SELECT COUNT(*) FROM topic_aliases a WHERE NOT EXISTS (SELECT 1 FROM topics t WHERE t.id = a.topic_id)", 0},
		// The clusterer's statistics are saved with its assignments.
		{"clustered stories counted in the statistics but not in storylines", "SELECT (SELECT docs FROM cluster_meta) - (SELECT COUNT(*) FROM topic_entries)", 0},
	}
	if complete {
		checks = append(checks, []struct {
			what  string
			query string
			want  int64
		}{
			{"entries", "SELECT COUNT(*) FROM entries", crashFeeds * crashItems},
			{"entries pending", "SELECT COUNT(*) FROM pending_entries", 0},
			{"entries in a storyline", "SELECT COUNT(*) FROM topic_entries", crashFeeds * crashItems},
			{"feeds never saved", "SELECT COUNT(*) FROM feeds WHERE etag = '' OR last_polled_at = 0", 0},
		}...)
	}
	for _, c := range checks {
		var n int64
		if err := db.QueryRow(c.query).Scan(&n); err != nil {
			t.Errorf("%s: %v", c.what, err)
		} else if n != c.want {
			t.Errorf("%s: %d, want %d", c.what, n, c.want)
		}
	}
}

// checkCopy checks the database as a killed process left it, on a copy of
// the file and its WAL (without the WAL index), and returns how many
// entries it holds and how many are clustered. The original is left
// untouched for the next process, which has to recover it.
func checkCopy(t *testing.T, path string, step int) (entries, clustered int64) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(path), fmt.Sprintf("after-kill-%d", step))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dst := filepath.Join(dir, filepath.Base(path))
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if errors.Is(err, fs.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkCrashInvariants(t, dst, false)
	return count(t, dst, "SELECT COUNT(*) FROM entries"), count(t, dst, "SELECT COUNT(*) FROM topic_entries")
}

// TestCrashDuringIngest kills `poll --all` and `serve` with SIGKILL at
// several points of a 10,000-story ingest (while fetching and saving,
// while clustering), restarting each time, and checks after every kill and
// at the end that nothing is lost, doubled or left half done.
func TestCrashDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("about 40 s under -race")
	}
	start := time.Now()
	srv := newFixtureServer(t, newsFixture(crashFeeds, crashItems, time.Now().Add(-time.Hour)))
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "crash.db")

	// Subscribed from an OPML file; the daemon's configuration lists the
	// same feeds, which must not subscribe them a second time.
	var opml, cfg strings.Builder
	opml.WriteString(`<?xml version="1.0"?><opml version="2.0"><body>`)
	fmt.Fprintf(&cfg, "database: %s\nserve:\n  listen: 127.0.0.1:0\nfeeds:\n", dbPath)
	for _, u := range srv.urls() {
		fmt.Fprintf(&opml, `<outline type="rss" text="%s" xmlUrl="%s"/>`, u, u)
		fmt.Fprintf(&cfg, "  - url: %s\n", u)
	}
	opml.WriteString(`</body></opml>`)
	opmlPath, cfgPath := filepath.Join(dir, "feeds.opml"), filepath.Join(dir, "config.yaml")
	os.WriteFile(opmlPath, []byte(opml.String()), 0o644)
	os.WriteFile(cfgPath, []byte(cfg.String()), 0o644)
	mustRun(t, "--db", dbPath, "import", opmlPath)

	pollAll := []string{"--config", cfgPath, "poll", "--all"}
	serve := []string{"--config", cfgPath, "serve"}
	const total = crashFeeds * crashItems
	// The conditions read the database while the process runs (never
	// once it is killed, see checkCopy).
	saved := func(n int64) func() bool {
		return func() bool { return count(t, dbPath, "SELECT COUNT(*) FROM entries") >= n }
	}
	var clusteredBefore int64
	clusteredMore := func() bool { return count(t, dbPath, "SELECT COUNT(*) FROM topic_entries") > clusteredBefore }
	steps := []struct {
		name  string
		args  []string
		until func() bool
		delay time.Duration // from until holding to the kill
	}{
		{"poll --all, 10% of the entries saved", pollAll, saved(total / 10), 0},
		{"serve, 40% saved", serve, saved(total * 4 / 10), 0},
		{"poll --all, 80% saved", pollAll, saved(total * 8 / 10), 0},
		// A chunk of the clustering commits; the kill comes inside the next.
		{"serve, clustering", serve, clusteredMore, 300 * time.Millisecond},
		// The kill comes right after a commit.
		{"poll --all, clustering", pollAll, clusteredMore, 0},
	}
	for i, s := range steps {
		stepStart := time.Now()
		p := startProcess(t, s.args...)
		reached := p.waitUntil(t, s.name, s.until)
		if reached {
			time.Sleep(s.delay)
		}
		p.kill(t)
		if !reached && p.err != nil {
			t.Errorf("%s exited on its own with %v:\n%s", s.name, p.err, lastLines(p.out.String(), 20))
		}
		var entries int64
		entries, clusteredBefore = checkCopy(t, dbPath, i+1)
		t.Logf("step %d, %s: killed after %v%s: %d entries, %d clustered, %d documents sent",
			i+1, s.name, time.Since(stepStart).Round(time.Millisecond), map[bool]string{true: "", false: " (it had exited)"}[reached],
			entries, clusteredBefore, srv.sent.Load())
		if t.Failed() {
			t.Fatalf("after step %d (%s):\n%s", i+1, s.name, lastLines(p.out.String(), 20))
		}
	}

	// The daemon, restarted, finishes the work and stops cleanly.
	// It may have nothing left to do: wait until it serves too, which is
	// after it handles signals.
	p := startProcess(t, serve...)
	p.waitUntil(t, "the daemon to cluster every story", func() bool {
		return strings.Contains(p.out.String(), "storyline serving") &&
			count(t, dbPath, `SELECT (SELECT COUNT(*) FROM entries) = ? AND NOT EXISTS (SELECT 1 FROM pending_entries)`,
				total) == 1
	})
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(30*time.Second, func() { p.cmd.Process.Kill() })
	err := p.wait()
	if !timer.Stop() {
		t.Fatalf("serve ignored SIGTERM for 30 s\n%s", lastLines(p.out.String(), 20))
	}
	if err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, lastLines(p.out.String(), 20))
	}
	// A last poll finds every feed unchanged and nothing left to cluster.
	p = startProcess(t, pollAll...)
	if err := p.wait(); err != nil {
		t.Fatalf("final poll --all: %v\n%s", err, lastLines(p.out.String(), 20))
	}
	if want := fmt.Sprintf("total: %d feeds, 0 new entries, 0 updated, %d not modified", crashFeeds, crashFeeds); !strings.Contains(p.out.String(), want) {
		t.Errorf("final poll --all: want %q in\n%s", want, lastLines(p.out.String(), 3))
	}
	checkCrashInvariants(t, dbPath, true)
	t.Logf("%d storylines; %d documents fetched in all; took %v", count(t, dbPath, "SELECT COUNT(*) FROM topics"),
		srv.sent.Load(), time.Since(start).Round(time.Millisecond))
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
