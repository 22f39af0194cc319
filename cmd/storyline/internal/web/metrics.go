package web

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds storyline's Prometheus metrics in a registry of its own, so
// that tests and several servers in one process never collide on the global
// one. The daemon records polls through ObservePoll and SetTopicsActive;
// the Server records HTTP requests itself.
type Metrics struct {
	reg           *prometheus.Registry
	polls         *prometheus.CounterVec
	fetchDuration prometheus.Histogram
	entries       prometheus.Counter
	topicsActive  prometheus.Gauge
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec

	// series holds the HTTP series already looked up, copied on write:
	// WithLabelValues hashes its labels and formats the status on every
	// call, a measurable share of a cached response. Routes are the mux's
	// patterns and statuses a few codes, so it stays small.
	series   atomic.Pointer[map[routeStatus]httpSeries]
	seriesMu sync.Mutex
}

type routeStatus struct {
	route  string
	status int
}

type httpSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// Poll results for ObservePoll. The label must come from a small fixed set:
// every distinct value is a time series for ever.
const (
	PollOK          = "ok"           // fetched and parsed (new entries or not)
	PollNotModified = "not_modified" // the server answered 304
	PollError       = "error"        // network, HTTP or parse failure
)

// NewMetrics creates the metrics and registers them, with the Go runtime and
// process collectors, in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storyline_polls_total",
			Help: "Feed polls by result (ok, not_modified, error).",
		}, []string{"result"}),
		fetchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "storyline_fetch_duration_seconds",
			Help: "Time to poll one feed: fetch, parse and save.",
			// Fetches time out at tens of seconds; the default buckets stop at 10.
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		entries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "storyline_entries_ingested_total",
			Help: "New entries stored.",
		}),
		topicsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "storyline_topics_active",
			Help: "Storylines with at least two stories, one of them inside the activity window.",
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storyline_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "storyline_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.polls, m.fetchDuration, m.entries, m.topicsActive, m.httpRequests, m.httpDuration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Pre-create the result series so that rate() works from the first
	// scrape instead of after the first error.
	for _, r := range []string{PollOK, PollNotModified, PollError} {
		m.polls.WithLabelValues(r)
	}
	return m
}

// ObservePoll records one poll of one feed: its result (PollOK,
// PollNotModified or PollError), how long fetching and parsing took, and how
// many new entries it stored. Safe for concurrent use.
func (m *Metrics) ObservePoll(result string, took time.Duration, newEntries int) {
	m.polls.WithLabelValues(result).Inc()
	m.fetchDuration.Observe(took.Seconds())
	if newEntries > 0 {
		m.entries.Add(float64(newEntries))
	}
}

// SetTopicsActive records the number of active topics; the daemon calls it
// after each polling round. Safe for concurrent use.
func (m *Metrics) SetTopicsActive(n int) {
	m.topicsActive.Set(float64(n))
}

// Registry returns the registry, for the daemon to add metrics of its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// handler serves the registry in the Prometheus text format.
func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// instrument counts requests by the pattern the mux matched (never the raw
// path, which would let any client create series at will).
func (m *Metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		// ServeMux sets r.Pattern on the request it was given.
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		hs := m.httpSeries(route, sw.status)
		hs.requests.Inc()
		hs.duration.Observe(time.Since(start).Seconds())
	})
}

func (m *Metrics) httpSeries(route string, status int) httpSeries {
	k := routeStatus{route, status}
	if cur := m.series.Load(); cur != nil {
		if hs, ok := (*cur)[k]; ok {
			return hs
		}
	}
	m.seriesMu.Lock()
	defer m.seriesMu.Unlock()
	next := make(map[routeStatus]httpSeries)
	if cur := m.series.Load(); cur != nil {
		maps.Copy(next, *cur)
	}
	hs := httpSeries{m.httpRequests.WithLabelValues(route, strconv.Itoa(status)), m.httpDuration.WithLabelValues(route)}
	next[k] = hs
	m.series.Store(&next)
	return hs
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
