package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storyline/storyline/cmd/storyline/internal/web"
	"github.com/storyline/storyline/store/sqlite"
)

// The credentials of the feeds in TestCredentialsNeverShown: distinctive
// enough that finding one anywhere is a leak, not a coincidence.
const (
	credUser  = "reader-4b1d"
	credPass  = "pa55-w0rd-7f3e"
	credToken = "tok-9c2a-51be"
	credKey   = "key-QW3R-88x1"
)

// privateFeed serves a feed only to a client with the user name, password
// and token, with a relative link and image so that resolving them against
// the fetch URL would carry the credentials into the entries; and a feed
// that always fails, whose error would name its URL.
type privateFeed struct{ served atomic.Int32 }

func (p *privateFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/private/feed.xml":
		user, pass, ok := r.BasicAuth()
		if !ok || user != credUser || pass != credPass || r.URL.Query().Get("token") != credToken {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		p.served.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		now := time.Now().UTC()
		fmt.Fprintf(w, `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Members Only</title><link>https://members.example/</link>
<item><title>Harbour authority approves new ferry terminal</title><link>stories/ferry.html</link><guid isPermaLink="false">ferry</guid>
<description>&lt;p&gt;The harbour authority approved the terminal. &lt;img src="img/terminal.png" alt="terminal"&gt;&lt;/p&gt;</description>
<pubDate>%s</pubDate></item>
<item><title>Ferry terminal construction to start in spring</title><link>stories/spring.html</link><guid isPermaLink="false">spring</guid>
<description>Construction of the harbour ferry terminal starts in spring.</description>
<pubDate>%s</pubDate></item>
</channel></rss>`, now.Add(-2*time.Hour).Format(time.RFC1123Z), now.Add(-time.Hour).Format(time.RFC1123Z))
	case "/private/broken.xml":
		http.Error(w, "broken today", http.StatusInternalServerError)
	default:
		http.NotFound(w, r)
	}
}

// TestCredentialsNeverShown subscribes to feeds whose URLs carry a user
// name, password, token and key, and checks that they are sent to the
// publisher and appear in nothing storyline shows: CLI output, stored
// errors, daemon logs, and every feed and page it serves.
func TestCredentialsNeverShown(t *testing.T) {
	pf := &privateFeed{}
	src := httptest.NewServer(pf)
	defer src.Close()
	host := strings.TrimPrefix(src.URL, "http://")
	private := fmt.Sprintf("http://%s:%s@%s/private/feed.xml?lang=en&token=%s", credUser, credPass, host, credToken)
	broken := fmt.Sprintf("http://%s/private/broken.xml?api_key=%s", host, credKey)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "cred.db")

	var shown strings.Builder
	collect := func(args ...string) string {
		t.Helper()
		out, stderr, err := runCLI(t, append([]string{"--db", dbPath}, args...)...)
		shown.WriteString(out + stderr)
		if err != nil {
			shown.WriteString(err.Error())
		}
		return out
	}
	if out := collect("add", private); !strings.Contains(out, "added 1 http://"+host+"/private/feed.xml?lang=en") {
		t.Fatalf("add printed %q, want the public URL", out)
	}
	collect("add", broken) // 500: subscribed anyway, with a warning
	collect("add", private)
	collect("poll", "--all")
	if pf.served.Load() == 0 {
		t.Fatal("the publisher never saw the credentials")
	}
	for _, args := range [][]string{{"feeds"}, {"feeds", "--json"}, {"export"}, {"entries", "--json"},
		{"topics", "--json"}, {"search", "ferry", "--json"}, {"remove", broken}} {
		collect(args...)
	}
	if !strings.Contains(shown.String(), "Harbour authority approves") {
		t.Fatalf("the entries were not stored:\n%s", shown.String())
	}
	withCreds := mustRun(t, "--db", dbPath, "export", "--with-credentials")
	if !strings.Contains(withCreds, credToken) || !strings.Contains(withCreds, credPass) {
		t.Errorf("export --with-credentials lost them:\n%s", withCreds)
	}

	// A daemon polling the failing feed logs its error.
	collect("add", broken)
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("database: %s\nserve:\n  listen: 127.0.0.1:0\n", dbPath)), 0o644)
	d := startDaemon(t, "--config", cfg, "serve", "--log-format", "json")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(d.logText(), "broken.xml") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for _, path := range []string{"", "feed.atom", "feed.rss", "feed.json", "topics.atom", "topics.rss", "topics.json"} {
		resp, err := http.Get(d.baseURL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /%s: %s", path, resp.Status)
		}
		fmt.Fprintf(&shown, "\n/%s:\n%s", path, body)
	}
	d.stop(t)
	log := d.logText()
	if !strings.Contains(log, "broken.xml") {
		t.Fatalf("the daemon did not log the failing feed:\n%s", log)
	}
	shown.WriteString(log)

	db, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fl, err := db.Feeds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fl {
		fmt.Fprintf(&shown, "\nfeed %d: %s %s", f.ID, f.URL, f.LastError)
	}
	srv := web.New(web.Options{Store: db})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	all := shown.String()
	for _, want := range []string{"/stories/ferry.html", "/img/terminal.png", "broken.xml"} {
		if !strings.Contains(all, want) {
			t.Errorf("%q is missing from the outputs", want)
		}
	}
	for _, secret := range []string{credUser, credPass, credToken, credKey} {
		if i := strings.Index(all, secret); i >= 0 {
			t.Errorf("credential %q leaked: ...%s...", secret, all[max(0, i-200):min(len(all), i+100)])
		}
	}
}
