package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/cmd/storyline/internal/demo"
	"github.com/storyline/storyline/cmd/storyline/internal/poller"
	"github.com/storyline/storyline/cmd/storyline/internal/web"
	"github.com/storyline/storyline/store"
)

// shutdownGrace is how long in-flight HTTP requests get at shutdown; the
// whole shutdown stays well inside the 10 s a service manager waits.
const shutdownGrace = 5 * time.Second

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve")
	listen := fs.String("listen", e.cfg.Serve.Listen, "HTTP listen `ADDR`")
	logFormat := fs.String("log-format", e.cfg.LogFormat, "log format: text or json")
	demoMode := fs.Bool("demo", false, "serve the bundled demo feeds (no network or config needed)")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("serve takes no arguments")
	}
	if *logFormat != "text" && *logFormat != "json" {
		return usageError("--log-format must be text or json, not %q", *logFormat)
	}
	if err := checkListen(*listen); err != nil {
		return usageError("--listen %v", err)
	}
	log := newLogger(e.stderr, *logFormat)

	var demoURLs []string
	if *demoMode {
		srv, err := demo.StartLive(time.Now())
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer srv.Close()
		demoURLs = srv.URLs()
		e.cfg.Fetch = allowDemoHosts(e.cfg.Fetch, demoURLs)
		if !e.dbFlag {
			// A fresh file each time: the demo must not mix with, or
			// clobber, a real storyline.db in the working directory.
			dir, err := os.MkdirTemp("", "storyline-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			e.dbPath = filepath.Join(dir, "demo.db")
		}
		log.Info("demo: serving bundled feeds", "feeds", len(demoURLs), "db", shownDSN(e.dbPath))
	}

	if !isPostgres(e.dbPath) {
		// Instances sharing a PostgreSQL database split the polling
		// between them (leases); on SQLite one daemon does it all.
		release, err := lockServe(e.dbPath)
		if err != nil {
			return err
		}
		defer release()
		e.servesDB = true
	}
	// Bound before the database is opened: a port in use must not leave a
	// new, empty database behind.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	defer ln.Close()
	db, err := openDB(ctx, e)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close database", "err", err)
		}
	}()
	if len(demoURLs) > 0 {
		// A kept demo database knows the demo feeds at the port of an
		// earlier run: move them, rather than subscribe a second copy.
		if err := moveDemoFeeds(ctx, db, demoURLs); err != nil {
			return err
		}
		nfs := make([]store.NewFeed, len(demoURLs))
		for i, u := range demoURLs {
			nfs[i] = store.NewFeed{URL: u}
		}
		if _, err := db.SyncFeeds(ctx, nfs); err != nil {
			return fmt.Errorf("demo feeds: %w", err)
		}
	}

	metrics := web.NewMetrics()
	handler := web.New(web.Options{Store: db, BaseURL: e.cfg.Serve.BaseURL, Metrics: metrics, Logger: log,
		TopicWindow: e.cfg.Cluster.Window, Location: e.loc})
	httpSrv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("storyline serving", "version", fullVersion(), "url", "http://"+ln.Addr().String()+"/", "db", shownDSN(e.dbPath))
	if stored, stale, err := db.AnalyzerStale(ctx); err != nil {
		return err
	} else if stale {
		log.Warn("the storylines were built by another version of the analyzer: run `storyline recluster` to rebuild them",
			"stored", stored, "current", cluster.AnalyzerVersion)
	}

	// The poller and the retention write through one pipeline: one
	// clusterer, one write at a time.
	pipe := newPipeline(e, db)
	p := newPoller(e.cfg, pipe)
	p.OnOutcome = func(o poller.Outcome) { logOutcome(log, metrics, o) }
	p.OnRound = func() {
		n, err := db.CountTopics(context.WithoutCancel(ctx), time.Now().Add(-e.cfg.Cluster.Window), 2)
		if err == nil {
			metrics.SetTopicsActive(n)
		}
	}

	httpErr := make(chan error, 1)
	go func() { httpErr <- httpSrv.Serve(ln) }()
	// The poller has its own context so that it stops (and saves what it
	// fetched) on a signal and also when the HTTP server fails.
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	var queue poller.Queue = db
	releaseLeases := func() {}
	if shared, ok := db.(sharedDatabase); ok {
		// Other instances may poll and cluster the same database: claim
		// the feeds polled, and cluster only while leading.
		if err := checkLease(e.cfg); err != nil {
			return err
		}
		owner := instanceName()
		queue = poller.LeasedQueue(shared, owner, e.cfg.Poll.Lease, leaseBatch*e.cfg.Poll.Workers)
		var leadErrs repeatLog
		waitLead := pipe.Lead(pollCtx, shared, leadEvery, leadMaxWait, func(leading bool, err error) {
			switch {
			case err != nil:
				// Every leadEvery while the database is down: said once a
				// minute, not thirty times.
				if n, ok := leadErrs.due(err.Error(), time.Now()); ok {
					log.Error("cluster leadership", "instance", owner, "err", err, "repeated", n)
				}
			case leading:
				log.Info("clustering: this instance leads", "instance", owner)
			default:
				log.Warn("clustering: this instance lost the lead", "instance", owner)
			}
		})
		defer waitLead()
		releaseLeases = func() {
			// What this instance claimed and did not poll is the others'.
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := shared.ReleaseLeases(release, owner); err != nil {
				log.Warn("release leases", "err", err)
			}
		}
	}
	pollDone := make(chan error, 1)
	go func() {
		pollDone <- p.Run(pollCtx, queue, 15*time.Second, func(err error) { log.Error("scheduler", "err", err) })
	}()
	pruneDone := make(chan struct{})
	go func() {
		defer close(pruneDone)
		runRetention(pollCtx, pipe, e.cfg.Retention.retention(), log)
	}()

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing in-flight saves")
	case serveErr = <-httpErr:
		log.Error("http server stopped", "err", serveErr)
	}
	// Stop polling (Run saves what it has fetched) while open HTTP
	// requests finish; the database closes last, in the defer above.
	stopPolling()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := httpSrv.Shutdown(stopCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	<-pollDone
	releaseLeases()
	<-pruneDone
	log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", serveErr)
	}
	return nil
}

// logOutcome writes the one log line of a poll and records its metrics.
func logOutcome(log *slog.Logger, m *web.Metrics, o poller.Outcome) {
	result := web.PollOK
	attrs := []any{"feed", o.Feed.ID, "url", o.Feed.URL, "status", o.Status, "result", string(o.Kind),
		"new", o.Stats.New, "updated", o.Stats.Updated, "took_ms", o.Took.Milliseconds()}
	switch o.Kind {
	case poller.KindError:
		result = web.PollError
		attrs = append(attrs, "err", o.Err, "next_poll", o.NextPollAt.Format(time.RFC3339))
		if o.SaveErr != nil {
			log.Error("poll", attrs...)
		} else {
			log.Warn("poll", attrs...)
		}
	case poller.KindNotModified:
		result = web.PollNotModified
		log.Info("poll", attrs...)
	default:
		log.Info("poll", attrs...)
	}
	m.ObservePoll(result, o.Took, o.Stats.New)
}

// moveDemoFeeds points the demo feeds of an earlier run (same file on
// 127.0.0.1, another port) at this run's demo server.
func moveDemoFeeds(ctx context.Context, db database, urls []string) error {
	fl, err := db.Feeds(ctx)
	if err != nil {
		return err
	}
	for _, f := range fl {
		old, err := url.Parse(f.URL)
		if err != nil || old.Hostname() != "127.0.0.1" {
			continue
		}
		for _, u := range urls {
			nu, err := url.Parse(u)
			if err == nil && nu.Path == old.Path && nu.Host != old.Host {
				if err := db.MoveFeed(ctx, f.ID, u); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// allowDemoHosts lets the fetcher reach the demo server, which listens on
// loopback, when private networks are refused: the demo is meant to work
// whatever the configuration says.
func allowDemoHosts(fc FetchConfig, demoURLs []string) FetchConfig {
	if fc.AllowPrivateNetworks {
		return fc
	}
	fc.AllowHosts = slices.Clip(fc.AllowHosts)
	for _, raw := range demoURLs {
		if u, err := url.Parse(raw); err == nil && !slices.Contains(fc.AllowHosts, u.Hostname()) {
			fc.AllowHosts = append(fc.AllowHosts, u.Hostname())
		}
	}
	return fc
}

// repeatLog spaces out an error that comes back every few seconds (the
// database is down): the first is logged, then the same text at most once
// a minute, with how many times it came in between.
type repeatLog struct {
	text   string
	logged time.Time
	n      int
}

// due reports whether an error with this text is to be logged at now, and
// how many times it came since it was last logged.
func (r *repeatLog) due(text string, now time.Time) (repeated int, ok bool) {
	if text != r.text {
		// Another error: said at once, the count starting again (the
		// last one's unsaid repeats are too few to matter).
		r.text, r.logged, r.n = text, now, 0
		return 0, true
	}
	r.n++
	if now.Sub(r.logged) < time.Minute {
		return 0, false
	}
	repeated, r.logged, r.n = r.n-1, now, 0
	return repeated, true
}
