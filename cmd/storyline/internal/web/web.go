// Package web is the HTTP side of `storyline serve`: the merged feed, the
// topics digest and the per-topic feeds in Atom, RSS 2.0 and JSON Feed, a
// small HTML page, /healthz and /metrics. It reads the store through the
// Store interface declared here and never writes to it, so any number of
// servers can read one database.
package web

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/storyline/storyline/store"
)

// Store is what the handlers read; each backend's DB satisfies it. It is declared
// here, by its consumer, so that another backend or a test double needs only
// these methods.
type Store interface {
	Entries(ctx context.Context, q store.EntryQuery) ([]store.StoredEntry, error)
	Search(ctx context.Context, query string, limit int) ([]store.StoredEntry, error)
	Topics(ctx context.Context, q store.TopicQuery) ([]store.Topic, error)
	Topic(ctx context.Context, id int64) (store.Topic, error)
	TopicMovedTo(ctx context.Context, id int64) (int64, error)
	TopicOutlets(ctx context.Context, topicIDs []int64) (map[int64][]store.OutletCount, error)
	// Feed returns a feed by ID or URL, or store.ErrNotFound.
	Feed(ctx context.Context, idOrURL string) (store.Feed, error)
	// DataVersion changes whenever what the feeds show may have changed;
	// rendered responses are reused while it stays the same. It is asked
	// on every feed request, so it must be cheap: both backends answer from
	// memory.
	DataVersion(ctx context.Context) (store.DataVersion, error)
}

// Options configures a Server. Only Store is required.
type Options struct {
	Store Store
	// BaseURL is the public root of the server ("https://news.example.org"
	// or with a path prefix) for absolute links and ids in the feeds. When
	// empty it is taken from each request (scheme and Host); set it behind
	// a reverse proxy, and so that feed and entry ids do not depend on the
	// name a client used.
	BaseURL string
	// Title names the site in feeds and on the page; default "storyline".
	Title string
	// TopicWindow is how recent a topic's last story must be for the topic
	// to count as active (topics digest and page); default 72h. The since
	// parameter overrides it per request.
	TopicWindow time.Duration
	// MinTopicSize is the number of stories that makes a topic a storyline
	// worth a digest entry; default 2, since single stories are already in
	// the merged feed.
	MinTopicSize int
	// MaxSearches is how many requests with a search (q=) may run at
	// once; default twice GOMAXPROCS. A search reads thousands of entries
	// to rank them, so this bounds the memory a burst of searches takes.
	// One beyond it waits up to a second for a slot, then is answered 503
	// with Retry-After. A repeat of a search while the data is unchanged
	// (and for at most a minute) is answered from memory and takes no slot.
	MaxSearches int
	// Metrics receives the HTTP metrics and serves /metrics; nil creates
	// one (see Server.Metrics).
	Metrics *Metrics
	// Logger receives errors the handlers answer with 500; nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock for since and the activity window; nil means
	// time.Now.
	Now func() time.Time
	// Location is the time zone of the times that pages and the topics
	// feed's text show (machine-readable times keep their offset); nil
	// means UTC.
	Location *time.Location
}

// Server answers storyline's HTTP requests. Create it with New; it is safe
// for concurrent use.
type Server struct {
	store        Store
	baseURL      string
	title        string
	topicWindow  time.Duration
	minTopicSize int
	metrics      *Metrics
	log          *slog.Logger
	now          func() time.Time
	handler      http.Handler
	cache        *responseCache
	searchCache  *responseCache
	searches     *searchSlots
	loc          *time.Location
	// pages are this server's copies of the page templates, keyed by the
	// package's, with the times written in loc.
	pages map[*template.Template]*template.Template
}

// New returns a Server with its routes:
//
//	GET /                          front page: the storylines big now, the latest stories
//	GET /topics/{id}               a storyline's page: its stories and coverage chart
//	GET /search?q=                 stories matching q, grouped by storyline
//	GET /style.css                 the pages' stylesheet
//	GET /feed.{atom,rss,json}      merged stream, newest first, duplicates folded
//	GET /topics.{atom,rss,json}    one digest entry per active topic
//	GET /topics/{id}.{atom,rss,json} the stories of one topic
//	GET /healthz                   200 "ok" when the store answers reads, else 503
//	GET /metrics                   Prometheus text format
//
// Feeds take the query parameters limit (1–500, default 50), since (a Go
// duration: 24h), q (full-text search) and feed (a feed id). Every response
// carries the security headers of secureHeaders.
func New(opts Options) *Server {
	s := &Server{
		store:        opts.Store,
		baseURL:      strings.TrimRight(opts.BaseURL, "/"),
		title:        opts.Title,
		topicWindow:  opts.TopicWindow,
		minTopicSize: opts.MinTopicSize,
		metrics:      opts.Metrics,
		log:          opts.Logger,
		now:          opts.Now,
		// max-age 60 is what clients are told; relative windows (since,
		// the topic window) move by at most that much meanwhile.
		cache:       newResponseCache(time.Minute, 32<<20),
		searchCache: newResponseCache(time.Minute, searchCacheBytes),
	}
	maxSearches := opts.MaxSearches
	if maxSearches <= 0 {
		maxSearches = 2 * runtime.GOMAXPROCS(0)
	}
	s.searches = newSearchSlots(maxSearches, searchQueueWait)
	if s.title == "" {
		s.title = "storyline"
	}
	if s.topicWindow <= 0 {
		s.topicWindow = 72 * time.Hour
	}
	if s.minTopicSize <= 0 {
		s.minTopicSize = 2
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.loc = opts.Location
	if s.loc == nil {
		s.loc = time.UTC
	}
	s.pages = pagesIn(s.loc)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	for ext := range formats {
		mux.HandleFunc("GET /feed."+ext, s.feedHandler(ext, s.mergedFeed))
		mux.HandleFunc("GET /topics."+ext, s.feedHandler(ext, s.topicsFeed))
	}
	mux.HandleFunc("GET /topics/{file}", s.handleTopicFeed)
	mux.HandleFunc("GET /search", s.handleSearch)
	mux.HandleFunc("GET /style.css", s.handleStyle)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", s.metrics.handler())
	s.handler = secureHeaders(s.metrics.instrument(mux))
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Metrics returns the metrics the server serves on /metrics, for the daemon
// to record polls in.
func (s *Server) Metrics() *Metrics { return s.metrics }

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.checkReads(ctx); err != nil {
		s.log.Warn("health check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("store unavailable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

// checkReads runs the two reads the page runs, asking for one row each. A
// ping proves a connection, not a readable database: a corrupted one
// answered pings while every page failed. The topics are read as the page
// reads them, so that the check costs no more than a page.
func (s *Server) checkReads(ctx context.Context) error {
	if _, err := s.store.Entries(ctx, store.EntryQuery{Limit: 1}); err != nil {
		return err
	}
	_, err := s.store.Topics(ctx, store.TopicQuery{Since: s.now().Add(-s.topicWindow), MinSize: s.minTopicSize, Limit: 1})
	return err
}

// base is the absolute URL prefix for links: the configured one, else the
// request's own scheme and host. X-Forwarded-* headers are not trusted,
// since any client can send them; a proxy setup sets BaseURL instead.
func (s *Server) base(r *http.Request) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// fail answers a store error and logs it, once, here. The answer is 503
// with Retry-After, as /healthz says: a database that cannot be read (a
// PostgreSQL server restarting, a disk full) is, for a feed reader, a
// server that is down for now, and readers back off on 503 and retry,
// where a 500 says the request itself went wrong.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		// The client went away; nobody is left to answer.
		return
	}
	s.log.Error("serving request failed", "url", r.URL.String(), "err", err)
	w.Header().Set("Retry-After", "30")
	http.Error(w, "store unavailable; try again shortly", http.StatusServiceUnavailable)
}
