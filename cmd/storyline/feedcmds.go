package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/cmd/storyline/internal/period"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// openDB opens the database for a command that writes, creating it if
// needed, and subscribes to the feeds listed in the configuration. Feeds
// missing from the configuration are kept: removing a subscription (and
// its entries) takes an explicit `storyline remove`.
func openDB(ctx context.Context, e *env) (database, error) {
	return openWith(ctx, e, false)
}

// openDBExisting is openDB for a command that only reads: a missing
// database is an error naming the path, not a new empty one, which is what
// a mistyped --db would otherwise leave behind.
func openDBExisting(ctx context.Context, e *env) (database, error) {
	return openWith(ctx, e, true)
}

// openDBToChange is openDB for a command that changes what is stored
// (polls, removes, reclusters) and so has nothing to do in a new database:
// a missing one is an error as for openDBExisting, and one that cannot be
// written is an error before any work, as for openDB.
func openDBToChange(ctx context.Context, e *env) (database, error) {
	if !isPostgres(e.dbPath) && e.dbPath != ":memory:" {
		if _, err := os.Stat(e.dbPath); errors.Is(err, fs.ErrNotExist) {
			return nil, noDatabase(fmt.Errorf("store: %s: %w", e.dbPath, store.ErrNoDatabase))
		}
	}
	return openDB(ctx, e)
}

// noDatabase adds to a missing database's error what to check.
func noDatabase(err error) error {
	return fmt.Errorf("%w (check --db or database: in the config; `storyline add`, `import` or `serve` creates one)", err)
}

func openWith(ctx context.Context, e *env, existing bool) (database, error) {
	if !e.servesDB {
		if err := refuseUpgradeUnderServe(ctx, e.dbPath); err != nil {
			return nil, err
		}
	}
	db, err := openDatabase(ctx, e.dbPath, existing)
	if errors.Is(err, store.ErrNoDatabase) {
		return nil, noDatabase(err)
	}
	if err != nil {
		return nil, err
	}
	if from, to := db.SchemaUpgrade(); from > 0 {
		fmt.Fprintf(e.stderr, "storyline: upgraded the database %s from schema version %d to %d (an older storyline cannot open it now)\n",
			shownDSN(e.dbPath), from, to)
	}
	nfs := make([]store.NewFeed, len(e.cfg.Feeds))
	for i, fc := range e.cfg.Feeds {
		nfs[i] = store.NewFeed{URL: fc.URL, Title: fc.Title, Interval: fc.Interval}
	}
	if _, err := db.SyncFeeds(ctx, nfs); err != nil {
		db.Close()
		return nil, fmt.Errorf("config feeds: %w", err)
	}
	return db, nil
}

// newPipeline returns the write path of stories over db, clustering with
// the configuration's settings. A process makes one and hands it to every
// writer, so that they share its clusterer.
func newPipeline(e *env, db database) *ingest.Pipeline {
	return ingest.New(db, e.cfg.Cluster.config())
}

func newFetcher(cfg Config) *feeds.Fetcher {
	ua := cfg.Fetch.UserAgent
	if ua == "" {
		ua = "storyline/" + version + " (+https://github.com/storyline/storyline)"
	}
	return &feeds.Fetcher{
		UserAgent:      ua,
		Timeout:        cfg.Fetch.Timeout,
		ConnectTimeout: cfg.Fetch.ConnectTimeout,
		MaxBodyBytes:   int64(cfg.Fetch.MaxBodyMiB) << 20,
		MaxRedirects:   cfg.Fetch.MaxRedirects,

		DenyPrivateNetworks: !cfg.Fetch.AllowPrivateNetworks,
		AllowHosts:          cfg.Fetch.AllowHosts,
	}
}

// checkFeedURL checks a URL given to subscribe to and returns it as it is
// stored: without a fragment, which never reaches the server, so that
// "feed.xml#top" is not a second subscription to "feed.xml" (but see
// below for "#12").
func checkFeedURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		// Let "example.org/feed" mean what the user meant.
		u2, err2 := url.Parse("https://" + raw)
		if err2 != nil || u2.Host == "" || strings.Contains(raw, "://") {
			return "", usageError("%q is not a feed URL", raw)
		}
		u = u2
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", usageError("%q: only http and https feeds are supported", raw)
	}
	if _, err := strconv.ParseUint(u.Fragment, 10, 64); err != nil {
		// "#12" stays: it is how `feeds` shows a feed that shares its URL
		// with another one, each with its own credentials.
		u.Fragment, u.RawFragment = "", ""
	}
	return u.String(), nil
}

func cmdAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "add")
	title := fs.String("title", "", "the feed's title, instead of its own")
	interval := periodFlag(fs, "interval", "poll interval for this feed, such as 30m, 2h or 1d (default from the config)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if len(pos) != 1 {
		return usageError("add takes one URL")
	}
	if *interval < 0 || *interval > 0 && *interval < e.cfg.Poll.MinInterval {
		return usageError("--interval %v is shorter than poll.min_interval (%v)", *interval, e.cfg.Poll.MinInterval)
	}
	raw, err := checkFeedURL(pos[0])
	if err != nil {
		return err
	}
	// Credentials in the URL are used to fetch, never printed.
	public, secret := feeds.SplitSecrets(raw)
	// Look before subscribing: a typo or an HTML page should not end up in
	// the database as a feed that fails forever.
	feedURL, err := resolveFeed(ctx, newFetcher(e.cfg), raw)
	err = feeds.RedactError(err, public, secret)
	answered := err == nil // the URL gave a feed just now
	var he *feeds.HTTPError
	if errors.As(err, &he) && he.Temporary() {
		// The server is busy or down for now: that says nothing about the
		// URL. Subscribe; the poller retries politely (Retry-After, backoff).
		fmt.Fprintf(e.stderr, "warning: could not check %s now (%v); subscribing anyway\n", public, err)
		feedURL, err = raw, nil
	}
	// A plain-HTTP server answers a TLS handshake with a record that is
	// not TLS (net/http words it as below when it looks like HTTP).
	var plain tls.RecordHeaderError
	if err != nil && !strings.Contains(pos[0], "://") &&
		(errors.As(err, &plain) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")) {
		return fmt.Errorf("%w (with no scheme given https was tried; for a server that speaks plain HTTP write http://%s)", err, pos[0])
	}
	if err != nil {
		return err
	}
	db, err := openDB(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	f, err := db.AddFeed(ctx, store.NewFeed{URL: feedURL, Title: *title, Interval: *interval})
	if errors.Is(err, store.ErrExists) {
		fmt.Fprintf(e.stdout, "already subscribed: %d %s\n", f.ID, f.URL)
		return updateFeed(ctx, e, db, f, answered, set["title"], *title, set["interval"], *interval)
	}
	if err != nil {
		return err
	}
	if feedURL != raw {
		fmt.Fprintf(e.stdout, "found feed %s on %s\n", f.URL, public)
	}
	fmt.Fprintf(e.stdout, "added %d %s\n", f.ID, f.URL)
	return nil
}

// updateFeed applies to a feed subscribed already what `add` asked of it:
// a new title or interval, given as flags, and, when the URL answered
// with a feed just now, its return if a 410 had disabled it. Adding is how
// a user changes a subscription without losing its stories. A feed the
// config lists takes its title and interval from there, at every start:
// a change made here would not last.
func updateFeed(ctx context.Context, e *env, db database, f store.Feed, answered, setTitle bool, title string, setInterval bool, interval time.Duration) error {
	if (setTitle && title != f.UserTitle || setInterval && interval != f.Interval) && inConfig(e.cfg, f) {
		return fmt.Errorf("feed %d is listed in the config (%s): change its title or interval there", f.ID, e.configPath)
	}
	var u store.FeedUpdate
	var changes []string
	if setTitle && title != f.UserTitle {
		u.Title = &title
		if title == "" {
			changes = append(changes, "title: the feed's own again")
		} else {
			changes = append(changes, fmt.Sprintf("title: %q", title))
		}
	}
	if setInterval && interval != f.Interval {
		u.Interval = &interval
		if interval == 0 {
			changes = append(changes, "interval: the default again")
		} else {
			changes = append(changes, "interval: "+period.Format(interval))
		}
	}
	if f.Disabled && answered {
		u.Enable = true
		changes = append(changes, fmt.Sprintf("enabled again (it was disabled: %s)", f.DisabledReason))
	} else if f.Disabled {
		fmt.Fprintf(e.stderr, "feed %d stays disabled (%s) until its URL answers with a feed\n", f.ID, f.DisabledReason)
	}
	if len(changes) == 0 {
		return nil
	}
	if _, err := db.UpdateFeed(ctx, f.ID, u); err != nil {
		return err
	}
	for _, c := range changes {
		fmt.Fprintln(e.stdout, "  "+c)
	}
	return nil
}

// inConfig reports whether the config's feeds list f.
func inConfig(cfg Config, f store.Feed) bool {
	for _, fc := range cfg.Feeds {
		if u, _ := feeds.SplitSecrets(fc.URL); u == f.URL {
			return true
		}
	}
	return false
}

// resolveFeed fetches a URL given to `add`: a feed is taken as is, an HTML
// page is searched for the feeds it links to (or, without any, for the
// site's at the usual paths).
func resolveFeed(ctx context.Context, fetcher *feeds.Fetcher, raw string) (string, error) {
	resp, err := fetcher.Fetch(ctx, feeds.Request{URL: raw})
	if err != nil {
		return "", err
	}
	base := resp.URL
	if base == "" {
		base = raw
	}
	_, perr := feeds.ParseCharset(resp.Body, resp.Charset(), base, time.Now())
	if perr == nil {
		if resp.PermanentURL != "" {
			return resp.PermanentURL, nil
		}
		return raw, nil
	}
	// Only a page is looked through for its feeds: an empty body, a text
	// file or broken XML at a URL the user gave as a feed is a broken
	// feed, to be told as one, not swapped for a guess at the site's.
	var nf *feeds.NotFeedError
	if !errors.As(perr, &nf) || !nf.IsPage() && !isHTMLType(resp.ContentType) {
		return "", perr
	}
	found, err := feeds.Discover(ctx, fetcher, raw)
	if err != nil {
		return "", err
	}
	if len(found) == 0 {
		return "", perr
	}
	return withUserinfo(found[0], raw), nil
}

// isHTMLType reports whether a Content-Type says HTML: a page that starts
// without a doctype (with <meta> or <title>) sniffs as other markup.
func isHTMLType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "text/html" || mt == "application/xhtml+xml")
}

// withUserinfo gives a feed found on a page the page's user name and
// password when it is on the same host: a site behind a login links its
// feed without them.
func withUserinfo(found, page string) string {
	f, err1 := url.Parse(found)
	p, err2 := url.Parse(page)
	if err1 != nil || err2 != nil || p.User == nil || f.User != nil || !strings.EqualFold(f.Host, p.Host) {
		return found
	}
	f.User = p.User
	return f.String()
}

func cmdRemove(ctx context.Context, e *env, args []string) error {
	pos, err := parseFlags(newFlagSet(e, "remove"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("remove takes one feed URL or ID")
	}
	db, err := openDBToChange(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	f, err := newPipeline(e, db).RemoveFeed(ctx, pos[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no feed with ID or URL %s (see storyline feeds)", pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %d %s\n", f.ID, f.URL)
	for _, fc := range e.cfg.Feeds {
		if fc.URL == f.URL {
			fmt.Fprintf(e.stderr, "note: %s is listed in %s and will be added again on the next start\n", f.URL, e.configPath)
		}
	}
	return nil
}

// feedJSON is the stable JSON form of a feed (documented in the README).
type feedJSON struct {
	ID             int64      `json:"id"`
	URL            string     `json:"url"`
	Title          string     `json:"title"`
	SiteLink       string     `json:"site_link"`
	Status         string     `json:"status"`
	HTTPStatus     int        `json:"http_status"`
	Errors         int        `json:"errors"`
	LastError      string     `json:"last_error"`
	LastPoll       *time.Time `json:"last_poll"`
	NextPoll       *time.Time `json:"next_poll"`
	Interval       string     `json:"interval"`
	Disabled       bool       `json:"disabled"`
	DisabledReason string     `json:"disabled_reason"`
	Entries        int        `json:"entries"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// feedStatus sums up a feed's state in one word.
func feedStatus(f store.Feed) string {
	switch {
	case f.Disabled:
		return "disabled"
	case f.LastPolledAt.IsZero():
		return "new"
	case f.Errors > 0:
		return "error"
	default:
		return "ok"
	}
}

func toFeedJSON(f store.Feed) feedJSON {
	iv := ""
	if f.Interval > 0 {
		iv = f.Interval.String()
	}
	return feedJSON{
		ID: f.ID, URL: f.URL, Title: f.Title, SiteLink: f.SiteLink, Status: feedStatus(f),
		HTTPStatus: f.LastStatus, Errors: f.Errors, LastError: f.LastError,
		LastPoll: timePtr(f.LastPolledAt), NextPoll: timePtr(f.NextPollAt), Interval: iv,
		Disabled: f.Disabled, DisabledReason: f.DisabledReason, Entries: f.EntryCount,
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Read by people and programs, never pasted into HTML: "&", not
	// "\u0026".
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func cmdFeeds(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "feeds")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("feeds takes no arguments")
	}
	db, err := openDBExisting(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	fl, err := db.Feeds(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]feedJSON, 0, len(fl))
		for _, f := range fl {
			out = append(out, toFeedJSON(f))
		}
		return writeJSON(e.stdout, out)
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "ID\tSTATUS\tHTTP\tERRORS\tENTRIES\tLAST POLL\tNEXT POLL\tTITLE / URL")
	now := time.Now()
	for _, f := range fl {
		status := feedStatus(f)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", f.ID, status, httpStatus(f.LastStatus), f.Errors,
			f.EntryCount, ago(now, f.LastPolledAt), until(now, f.NextPollAt, f.Disabled), titleURL(f))
		if f.Disabled {
			fmt.Fprintf(tw, "\t\t\t\t\t\t\t  disabled: %s\n", f.DisabledReason)
		} else if f.LastError != "" {
			fmt.Fprintf(tw, "\t\t\t\t\t\t\t  last error: %s\n", errorOfFeed(f.LastError, f.URL))
		}
	}
	return tw.Flush()
}

// errorOfFeed shortens a feed's error for a line under the feed's row,
// which names the feed already: "feeds: fetch URL: HTTP 500" says
// "HTTP 500", "feeds: URL is an HTML page" says "is an HTML page".
func errorOfFeed(msg, url string) string {
	msg = strings.TrimPrefix(msg, "feeds: ")
	for _, verb := range []string{"fetch ", "parse ", "poll "} {
		if rest, ok := strings.CutPrefix(msg, verb+url+": "); ok {
			return rest
		}
	}
	if rest, ok := strings.CutPrefix(msg, url+" "); ok {
		return rest
	}
	return msg
}

func httpStatus(s int) string {
	if s == 0 {
		return "-"
	}
	return fmt.Sprint(s)
}

func titleURL(f store.Feed) string {
	if f.Title == "" {
		return f.URL
	}
	return f.Title + " <" + f.URL + ">"
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return roundDur(now.Sub(t)) + " ago"
}

func until(now, t time.Time, disabled bool) string {
	switch {
	case disabled:
		return "never"
	case !t.After(now):
		return "due"
	}
	return "in " + roundDur(t.Sub(now))
}

// roundDur writes a time span to the unit that matters at its size, as a
// person writes it: "45s", "30m", "5h", "3d" (not "1h0m0s").
func roundDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		d = d.Round(time.Second)
	case d < time.Hour:
		d = d.Round(time.Minute)
	case d < 48*time.Hour:
		d = d.Round(time.Hour)
	default:
		d = d.Round(24 * time.Hour)
	}
	return period.Format(d)
}

func cmdImport(ctx context.Context, e *env, args []string) error {
	pos, err := parseFlags(newFlagSet(e, "import"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("import takes one OPML file")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	// Read the list through once first, so that one that is not OPML
	// leaves no new empty database behind (a first import creates it). A
	// pipe (import /dev/stdin) cannot be read twice: it is read into
	// memory, a few megabytes even for a list of many thousand feeds.
	var in io.ReadSeeker = f
	switch st, err := f.Stat(); {
	case err != nil:
		return err
	case st.IsDir():
		return fmt.Errorf("import %s: a directory, not an OPML file", pos[0])
	case !st.Mode().IsRegular():
		b, err := io.ReadAll(f)
		if err != nil {
			return fmt.Errorf("import %s: %w", pos[0], err)
		}
		in = bytes.NewReader(b)
	}
	for _, err := range feeds.ScanOPML(in) {
		if err != nil {
			return fmt.Errorf("import %s: %w", pos[0], err)
		}
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return err
	}
	db, err := openDB(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	// Streamed: a list of 300,000 feeds is read and stored an outline at a
	// time, in one transaction, so a document broken halfway adds nothing.
	skipped := 0
	valid := func(yield func(store.NewFeed, error) bool) {
		for s, err := range feeds.ScanOPML(in) {
			if err != nil {
				yield(store.NewFeed{}, fmt.Errorf("import %s: %w", pos[0], err))
				return
			}
			u, err := checkFeedURL(s.URL)
			if err != nil {
				public, _ := feeds.SplitSecrets(s.URL)
				fmt.Fprintf(e.stderr, "skipped %q: not an http(s) feed URL\n", public)
				skipped++
				continue
			}
			if !yield(store.NewFeed{URL: u, Title: s.Title}, nil) {
				return
			}
		}
	}
	added, existing, err := db.AddFeeds(ctx, valid)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported %s (%d already subscribed, %d skipped)\n", counted(added, "feed", "feeds"), existing, skipped)
	return nil
}

func cmdExport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "export")
	withCredentials := fs.Bool("with-credentials", false, "keep the user names, passwords and tokens of feed URLs (for moving to another reader)")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("export takes no arguments")
	}
	db, err := openDBExisting(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	fl, err := db.Feeds(ctx)
	if err != nil {
		return err
	}
	subs := make([]feeds.Subscription, 0, len(fl))
	for _, f := range fl {
		u := f.URL
		if *withCredentials {
			u = f.FetchURL()
		}
		subs = append(subs, feeds.Subscription{URL: u, Title: f.Title, SiteLink: f.SiteLink})
	}
	return feeds.WriteOPML(e.stdout, "storyline subscriptions", subs)
}
