package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storyline/storyline/store/postgres/pgtest"
)

// fleetFeeds serves n RSS feeds of perFeed items each, at /f/I.xml, and
// counts the requests for each. Its stories are a few events told by
// many outlets, so that storylines gather stories from many feeds. A
// feed listed in hang answers nothing until the client gives up.
type fleetFeeds struct {
	n, perFeed int
	delay      time.Duration
	hang       map[int]bool

	mu      sync.Mutex
	fetches map[int][]time.Time
}

func (f *fleetFeeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/f/"), ".xml")
	i, err := strconv.Atoi(name)
	if err != nil || i < 0 || i >= f.n {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	f.fetches[i] = append(f.fetches[i], time.Now())
	f.mu.Unlock()
	if f.hang[i] {
		<-r.Context().Done()
		return
	}
	time.Sleep(f.delay)
	events := []string{
		"Harbour bridge closed after cargo ship collision",
		"Central bank raises interest rates to four percent",
		"Heavy snow closes northern mountain passes",
		"Valdoria wins national chess championship final",
		"Wildfire forces evacuation of coastal villages",
		"Parliament passes new data protection law",
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet %d</title><link>http://outlet%d.example/</link>`, i, i)
	base := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	for k := range f.perFeed {
		ev := (i + k) % len(events)
		fmt.Fprintf(w, `<item><guid>o%d-%d</guid><link>http://outlet%d.example/%d</link><title>%s</title>
			<description>Outlet %d reports: %s. Reporters on the scene describe the situation as it develops.</description>
			<pubDate>%s</pubDate></item>`,
			i, k, i, k, events[ev], i, strings.ToLower(events[ev]), base.Add(time.Duration(k*37+i)*time.Minute).Format(time.RFC1123Z))
	}
	fmt.Fprint(w, `</channel></rss>`)
}

func (f *fleetFeeds) count(i int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.fetches[i])
}

// fleet is a PostgreSQL database shared by instances of storyline serve,
// and the feeds they poll.
type fleet struct {
	dsn   string
	cfg   string
	feeds *fleetFeeds
	conn  *pgx.Conn
}

// newFleet creates the database, subscribes it to the feeds and writes
// the instances' configuration.
func newFleet(t *testing.T, f *fleetFeeds, extra string) *fleet {
	t.Helper()
	dsn := pgtest.DSN(t)
	f.fetches = map[int][]time.Time{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	var opml strings.Builder
	opml.WriteString(`<?xml version="1.0"?><opml version="2.0"><body>`)
	for i := range f.n {
		fmt.Fprintf(&opml, `<outline type="rss" text="Outlet %d" xmlUrl="%s/f/%d.xml"/>`, i, srv.URL, i)
	}
	opml.WriteString(`</body></opml>`)
	opmlPath := filepath.Join(dir, "feeds.opml")
	if err := os.WriteFile(opmlPath, []byte(opml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("database: "+dsn+"\nserve:\n  base_url: http://news.example/\n"+
		"poll:\n  interval: 24h\n  max_interval: 24h\n  workers: 8\n  per_host: 100\n"+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"--config", cfg, "import", opmlPath}, &out, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return &fleet{dsn: dsn, cfg: cfg, feeds: f, conn: conn}
}

func (fl *fleet) start(t *testing.T) *daemon {
	t.Helper()
	return startDaemon(t, "--config", fl.cfg, "serve", "--listen", "127.0.0.1:0", "--log-format", "json")
}

// query runs a one-number query on the shared database.
func (fl *fleet) query(t *testing.T, q string) int64 {
	t.Helper()
	var n int64
	if err := fl.conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// waitFor polls cond every 50 ms for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkStorylines asserts that every stored entry is in exactly one
// storyline, none is pending, and every storyline's size is its member
// count; it returns the number of entries.
func (fl *fleet) checkStorylines(t *testing.T) int64 {
	t.Helper()
	for what, q := range map[string]string{
		"entries pending":                          `SELECT COUNT(*) FROM pending_entries`,
		"entries in no storyline":                  `SELECT COUNT(*) FROM entries e WHERE NOT EXISTS (SELECT 1 FROM topic_entries te WHERE te.entry_id = e.id)`,
		"entries in more than one storyline":       `SELECT COUNT(*) FROM (SELECT entry_id FROM topic_entries GROUP BY entry_id HAVING COUNT(*) > 1) x`,
		"storylines whose size is not their count": `SELECT COUNT(*) FROM topics t WHERE t.size <> (SELECT COUNT(*) FROM topic_entries te WHERE te.topic_id = t.id)`,
		"empty storylines":                         `SELECT COUNT(*) FROM topics t WHERE NOT EXISTS (SELECT 1 FROM topic_entries te WHERE te.topic_id = t.id)`,
		"entries stored twice":                     `SELECT COUNT(*) FROM (SELECT feed_id, guid FROM entries GROUP BY feed_id, guid HAVING COUNT(*) > 1) x`,
	} {
		if n := fl.query(t, q); n != 0 {
			t.Errorf("%d %s", n, what)
		}
	}
	return fl.query(t, `SELECT COUNT(*) FROM entries`)
}

// TestInstancesShareOnePostgres: three instances of storyline serve on one
// PostgreSQL database poll 300 feeds between them, each feed exactly once
// in its due time; every story is stored once and is in exactly one
// storyline; and any instance serves the same feeds with the same ETags.
func TestInstancesShareOnePostgres(t *testing.T) {
	const n, perFeed = 300, 5
	fl := newFleet(t, &fleetFeeds{n: n, perFeed: perFeed}, "")
	ds := []*daemon{fl.start(t), fl.start(t), fl.start(t)}
	waitFor(t, 2*time.Minute, "every story stored and clustered", func() bool {
		return fl.query(t, `SELECT COUNT(*) FROM entries`) == n*perFeed && fl.query(t, `SELECT COUNT(*) FROM pending_entries`) == 0
	})
	// Let a few scheduler rounds pass: nothing may be polled again.
	time.Sleep(3 * time.Second)
	for i := range n {
		if c := fl.feeds.count(i); c != 1 {
			t.Errorf("feed %d fetched %d times, want once", i, c)
		}
	}
	if got := fl.checkStorylines(t); got != n*perFeed {
		t.Errorf("%d entries, want %d", got, n*perFeed)
	}
	leaders := 0
	for _, d := range ds {
		if strings.Contains(d.logText(), "this instance leads") {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("%d instances took the lead of the clustering, want 1", leaders)
	}
	// As behind a load balancer: one public name (serve.base_url), so the
	// same body from each.
	var etag, body string
	for i, d := range ds {
		for _, path := range []string{"feed.atom", "topics.json"} {
			resp, err := http.Get(d.baseURL + path)
			if err != nil {
				t.Fatal(err)
			}
			b := new(strings.Builder)
			_, err = io.Copy(b, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET %s from instance %d: %s, %v", path, i, resp.Status, err)
			}
			if path != "feed.atom" {
				continue
			}
			if i == 0 {
				etag, body = resp.Header.Get("ETag"), b.String()
			} else if resp.Header.Get("ETag") != etag || b.String() != body {
				t.Errorf("instance %d serves another /feed.atom (ETag %s, want %s)", i, resp.Header.Get("ETag"), etag)
			}
		}
	}
}

// TestInstancesSurviveKills: kill -9 of an instance in the middle of
// polling leaves its leased feeds to the others once the lease has run
// out; kill -9 of the instance that clusters, in the middle of it, hands
// the clustering to another within seconds, with nothing lost or doubled.
func TestInstancesSurviveKills(t *testing.T) {
	const n, perFeed = 300, 40
	hang := map[int]bool{}
	for i := 5; i < n; i += 10 {
		hang[i] = true
	}
	const lease = 6 * time.Second
	fl := newFleet(t, &fleetFeeds{n: n, perFeed: perFeed, delay: 20 * time.Millisecond, hang: hang},
		fmt.Sprintf("  lease: %v\nfetch:\n  timeout: 3s\n", lease))
	ds := []*daemon{fl.start(t), fl.start(t), fl.start(t)}
	leading := func(d *daemon) bool { return strings.Contains(d.logText(), "this instance leads") }
	var leader *daemon
	waitFor(t, time.Minute, "an instance to lead", func() bool {
		for _, d := range ds {
			if leading(d) {
				leader = d
			}
		}
		return leader != nil
	})

	// An instance that only polls dies holding leases (on feeds that
	// hang, at least): the others poll them once the lease has run out.
	var poller *daemon
	for _, d := range ds {
		if d != leader {
			poller = d
		}
	}
	waitFor(t, 30*time.Second, "the polling instance to hold leases", func() bool {
		return fl.query(t, fmt.Sprintf(`SELECT COUNT(*) FROM feeds WHERE lease_owner LIKE '%%/%d/%%'`, poller.cmd.Process.Pid)) > 0
	})
	poller.cmd.Process.Kill()
	<-poller.exited
	leased := fl.leasesOf(t, poller)
	t.Logf("killed a polling instance holding leases on %d feeds", len(leased))
	fl.checkPolledAfterLease(t, leased, lease)

	// The leader dies in the middle of clustering: the last instance
	// takes over within seconds and finishes.
	waitFor(t, 2*time.Minute, "the leader to be clustering", func() bool {
		return fl.query(t, `SELECT COUNT(*) FROM topic_entries`) > 0 && fl.query(t, `SELECT COUNT(*) FROM pending_entries`) > 0
	})
	stored, pending := fl.query(t, `SELECT COUNT(*) FROM entries`), fl.query(t, `SELECT COUNT(*) FROM pending_entries`)
	leader.cmd.Process.Kill()
	<-leader.exited
	killed := time.Now()
	t.Logf("killed the leader with %d stories stored, %d of them pending", stored, pending)
	for i, l := range fl.leasesOf(t, leader) {
		leased[i] = l
	}
	var last *daemon
	for _, d := range ds {
		if d != leader && d != poller {
			last = d
		}
	}
	waitFor(t, 30*time.Second, "the last instance to take the lead", func() bool { return leading(last) })
	if took := time.Since(killed); took > 10*time.Second {
		t.Errorf("the lead was taken %v after the leader died", took)
	} else {
		t.Logf("the lead was taken %v after the leader died", took.Round(time.Millisecond))
	}

	want := int64((n - len(hang)) * perFeed)
	waitFor(t, 2*time.Minute, "every story stored and clustered", func() bool {
		return fl.query(t, `SELECT COUNT(*) FROM entries`) == want && fl.query(t, `SELECT COUNT(*) FROM pending_entries`) == 0
	})
	if got := fl.checkStorylines(t); got != want {
		t.Errorf("%d entries, want %d", got, want)
	}
	for i := range n {
		if c := fl.feeds.count(i); c == 0 {
			t.Errorf("feed %d never polled", i)
		} else if c > 1 && !hang[i] {
			if _, ok := leased[i]; !ok {
				t.Errorf("feed %d, not leased by a dead instance, polled %d times", i, c)
			}
		}
	}
}

// deadLease is a feed a killed instance held a lease on: until when, and
// how often the feed had been fetched then.
type deadLease struct {
	until   time.Time
	fetched int
}

// leasesOf lists the feeds the killed instance d still holds leases on,
// by index.
func (fl *fleet) leasesOf(t *testing.T, d *daemon) map[int]deadLease {
	t.Helper()
	rows, err := fl.conn.Query(context.Background(), `SELECT url, lease_until FROM feeds WHERE lease_owner LIKE '%/' || $1 || '/%'`,
		strconv.Itoa(d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]deadLease{}
	for rows.Next() {
		var u string
		var until int64
		if err := rows.Scan(&u, &until); err != nil {
			t.Fatal(err)
		}
		i, _ := strconv.Atoi(strings.TrimSuffix(u[strings.LastIndex(u, "/")+1:], ".xml"))
		out[i] = deadLease{time.UnixMilli(until), fl.feeds.count(i)}
	}
	return out
}

// checkPolledAfterLease waits until the other instances have polled each
// feed a dead instance held (it never saved those polls), and checks that
// none did before the lease ended.
func (fl *fleet) checkPolledAfterLease(t *testing.T, leased map[int]deadLease, lease time.Duration) {
	t.Helper()
	for i, l := range leased {
		waitFor(t, lease+time.Minute, fmt.Sprintf("feed %d, leased by a dead instance, to be polled by another", i), func() bool {
			return fl.feeds.count(i) > l.fetched
		})
		fl.feeds.mu.Lock()
		next := fl.feeds.fetches[i][l.fetched]
		fl.feeds.mu.Unlock()
		if next.Before(l.until) {
			t.Errorf("feed %d polled by another instance at %v, before the dead instance's lease ended at %v", i, next, l.until)
		}
	}
}

// TestPollOnPostgresInRounds: `storyline poll --all` on a shared database
// claims the feeds a few rounds of workers at a time, polls each once,
// clusters what it stored, and leaves no lease behind; run again, it
// polls each once more.
func TestPollOnPostgresInRounds(t *testing.T) {
	const n, perFeed = 50, 3
	fl := newFleet(t, &fleetFeeds{n: n, perFeed: perFeed}, "")
	for round := 1; round <= 2; round++ {
		var out strings.Builder
		if err := run(context.Background(), []string{"--config", fl.cfg, "poll", "--all"}, &out, &out); err != nil {
			t.Fatalf("poll --all: %v\n%s", err, out.String())
		}
		for i := range n {
			if c := fl.feeds.count(i); c != round {
				t.Errorf("round %d: feed %d fetched %d times", round, i, c)
			}
		}
		if leased := fl.query(t, `SELECT COUNT(*) FROM feeds WHERE lease_owner <> ''`); leased != 0 {
			t.Errorf("round %d: %d leases left", round, leased)
		}
	}
	if got := fl.checkStorylines(t); got != n*perFeed {
		t.Errorf("%d entries, want %d", got, n*perFeed)
	}
}
