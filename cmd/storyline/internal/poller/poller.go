// Package poller polls feeds: it fetches due feeds with a bounded pool of
// workers (and a limit per host), parses them, and hands every result to a
// single writer, which saves it and schedules the feed's next poll. The CLI's
// `poll` uses it once; the daemon runs it on a schedule.
package poller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// Ingest is where the poller's writer hands what it fetched: the ingest
// pipeline (*ingest.Pipeline), which saves and clusters.
type Ingest interface {
	// SavePolls saves several results in one transaction, all or none;
	// new stories are stored unclustered.
	SavePolls(ctx context.Context, rs []store.PollResult) ([]store.SaveStats, error)
	// ClusterPending clusters the stored stories not clustered yet, in
	// time order.
	ClusterPending(ctx context.Context) (int, error)
}

// maxBatch bounds how many fetched feeds the writer saves in one
// transaction: enough to amortize commits, small enough that a failure
// retried feed by feed stays cheap and readers see news promptly.
const maxBatch = 32

// Fetcher fetches one feed document; *feeds.Fetcher is the real one.
type Fetcher interface {
	Fetch(ctx context.Context, req feeds.Request) (*feeds.Response, error)
}

// Config holds the poller's limits; the zero value of a field means its
// default (DefaultConfig). It is also the poll section of the YAML
// configuration, so its keys are named here.
type Config struct {
	// Interval is the default time between polls of a feed.
	Interval time.Duration `yaml:"interval"`
	// MinInterval and MaxInterval bound what a publisher may ask for with
	// ttl, sy:updatePeriod or Cache-Control max-age.
	MinInterval time.Duration `yaml:"min_interval"`
	MaxInterval time.Duration `yaml:"max_interval"`
	// MaxBackoff caps the exponential backoff after errors.
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// Workers is how many feeds are fetched and parsed at once.
	Workers int `yaml:"workers"`
	// PerHost is how many requests may be in flight to one host.
	PerHost int `yaml:"per_host"`
	// MaxItems is how many entries of one document are kept, the newest.
	MaxItems int `yaml:"max_items"`
	// Lease is, on a database shared by several instances, how long the
	// due feeds one instance claimed stay its own: the others poll a dead
	// instance's feeds once it has passed. It must be longer than a round
	// of polls (a round claims at most LeasedQueue's limit of feeds).
	Lease time.Duration `yaml:"lease"`
	// MaxAge, when set, skips entries published longer ago: the retention
	// that prunes them would otherwise see them come back at every poll
	// of a feed that still lists them. It is set from retention.max_age.
	MaxAge time.Duration `yaml:"-"`
}

// DefaultConfig is the poller's defaults, the one place they are written.
func DefaultConfig() Config {
	return Config{
		Interval:    30 * time.Minute,
		MinInterval: 5 * time.Minute,
		MaxInterval: 24 * time.Hour,
		MaxBackoff:  24 * time.Hour,
		Workers:     8,
		PerHost:     2,
		MaxItems:    feeds.DefaultMaxItems,
		Lease:       5 * time.Minute,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	for _, f := range []struct{ v, def *time.Duration }{
		{&c.Interval, &d.Interval}, {&c.MinInterval, &d.MinInterval},
		{&c.MaxInterval, &d.MaxInterval}, {&c.MaxBackoff, &d.MaxBackoff}, {&c.Lease, &d.Lease},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	for _, f := range []struct{ v, def *int }{
		{&c.Workers, &d.Workers}, {&c.PerHost, &d.PerHost}, {&c.MaxItems, &d.MaxItems},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return c
}

// Kind says what a poll came to, for summaries and metrics.
type Kind string

// The kinds of outcome of a poll.
const (
	KindNew         Kind = "new"          // new entries stored
	KindUpdated     Kind = "updated"      // no new entries, some changed
	KindUnchanged   Kind = "unchanged"    // fetched, nothing changed
	KindNotModified Kind = "not_modified" // the server answered 304
	KindError       Kind = "error"
)

// Outcome is the result of polling one feed.
type Outcome struct {
	Feed   store.Feed
	Kind   Kind
	Status int
	Stats  store.SaveStats
	// Err is the poll's error (fetch or parse), or the error saving it.
	Err error
	// SaveErr is set when the database refused the result: that, unlike a
	// feed's own failure, is the operator's problem.
	SaveErr    error
	NextPollAt time.Time
	Took       time.Duration
	// Truncated counts the fields cut to feeds' limits (a 5 MB title);
	// Dropped the entries beyond Config.MaxItems, the oldest; TooOld the
	// entries older than Config.MaxAge.
	Truncated, Dropped, TooOld int
}

// Poller polls feeds. Its fields are set before first use.
type Poller struct {
	Ingest  Ingest
	Fetcher Fetcher
	Config  Config
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Jitter spreads a delay so that feeds do not poll in lockstep (default:
	// a random ±10%).
	Jitter func(time.Duration) time.Duration
	// OnOutcome, if set, is called by the writer after each feed is saved.
	OnOutcome func(Outcome)
	// OnRound, if set, is called by Run after each round of polls.
	OnRound func()
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Poller) jitter(d time.Duration) time.Duration {
	if p.Jitter != nil {
		return p.Jitter(d)
	}
	if d <= 0 {
		return d
	}
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// fetched is a worker's result on its way to the writer.
type fetched struct {
	feed                       store.Feed
	result                     store.PollResult
	err                        error
	started                    time.Time
	truncated, dropped, tooOld int
}

// Poll polls the given feeds and returns one outcome per feed, in the order
// the writer saved them. It returns early with ctx's error when ctx ends, after
// the results already fetched have been saved: an interrupted poll loses no
// work that was done.
//
// The new stories are clustered once every result is saved, all together
// in time order, whichever feed was fetched first: a first poll of feeds
// whose items span weeks forms the storylines of those weeks as if the
// stories had arrived one by one. An error clustering them (the stories
// stay stored, and pending for the next poll) is returned.
func (p *Poller) Poll(ctx context.Context, fs []store.Feed) ([]Outcome, error) {
	cfg := p.Config.withDefaults()
	jobs := make(chan store.Feed)
	// Buffered so that workers keep fetching while the writer saves, and
	// the writer finds a full batch waiting when it is the bottleneck.
	results := make(chan fetched, maxBatch)
	hosts := newHostLimiter(cfg.PerHost)

	var wg sync.WaitGroup
	for range min(cfg.Workers, max(len(fs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				results <- p.pollOne(ctx, cfg, hosts, f)
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, f := range fs {
			select {
			case jobs <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	// The single writer: saves happen one at a time, in this goroutine.
	// Saves use a context that outlives ctx so that a fetched result is
	// not thrown away at shutdown.
	saveCtx := context.WithoutCancel(ctx)
	out := make([]Outcome, 0, len(fs))
	for r := range results {
		// Take whatever else is fetched already, so that a busy poll saves
		// many feeds per transaction. The order of saving does not matter
		// to the storylines: the round is clustered at the end.
		batch := []fetched{r}
	drain:
		for len(batch) < maxBatch {
			select {
			case r2, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, r2)
			default:
				break drain
			}
		}
		for _, o := range p.save(saveCtx, ctx, batch) {
			out = append(out, o)
			if p.OnOutcome != nil {
				p.OnOutcome(o)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return out, err // the stories stay pending for the next poll
	}
	_, err := p.Ingest.ClusterPending(ctx)
	return out, err
}

// save saves a batch of results in one transaction; when that fails, each
// result is saved on its own so that one bad result does not cost the
// others.
func (p *Poller) save(ctx, pollCtx context.Context, batch []fetched) []Outcome {
	keep := batch[:0]
	for _, r := range batch {
		if r.err != nil && pollCtx.Err() != nil {
			// Interrupted (cancelled or past the poll's deadline), not the
			// feed's fault: save nothing, so it stays due with its
			// validators and error count as they were.
			continue
		}
		keep = append(keep, r)
	}
	batch = keep
	if len(batch) == 0 {
		return nil
	}
	rs := make([]store.PollResult, len(batch))
	for i, r := range batch {
		rs[i] = r.result
	}
	stats, err := p.Ingest.SavePolls(ctx, rs)
	if err != nil && len(batch) > 1 {
		out := make([]Outcome, 0, len(batch))
		for _, r := range batch {
			out = append(out, p.save(ctx, pollCtx, []fetched{r})...)
		}
		return out
	}
	out := make([]Outcome, len(batch))
	for i, r := range batch {
		var st store.SaveStats
		if err == nil {
			st = stats[i]
		}
		out[i] = p.outcome(r, st, err)
	}
	return out
}

func (p *Poller) outcome(r fetched, st store.SaveStats, err error) Outcome {
	o := Outcome{Feed: r.feed, Status: r.result.Status, Err: r.err, NextPollAt: r.result.NextPollAt,
		Truncated: r.truncated, Dropped: r.dropped, TooOld: r.tooOld}
	o.Took = p.now().Sub(r.started)
	o.Stats = st
	switch {
	case err != nil:
		o.Kind, o.SaveErr = KindError, err
		if o.Err == nil {
			o.Err = err
		}
	case r.err != nil:
		o.Kind = KindError
	case r.result.NotModified:
		o.Kind = KindNotModified
	case st.New > 0:
		o.Kind = KindNew
	case st.Updated > 0:
		o.Kind = KindUpdated
	default:
		o.Kind = KindUnchanged
	}
	return o
}

// followFeedLink fetches and parses the feed a page announced, and reports
// whether it is one. Its errors are not the subscription's: the page's
// own error stands when this fails.
func (p *Poller) followFeedLink(ctx context.Context, hosts *hostLimiter, link string, started time.Time) (*feeds.Response, *feeds.Feed, bool) {
	release, err := hosts.acquire(ctx, link)
	if err != nil {
		return nil, nil, false
	}
	resp, err := p.Fetcher.Fetch(ctx, feeds.Request{URL: link})
	release()
	if err != nil || resp.NotModified {
		return nil, nil, false
	}
	base := resp.URL
	if base == "" {
		base = link
	}
	doc, err := feeds.ParseCharset(resp.Body, resp.Charset(), base, started)
	if err != nil {
		return nil, nil, false
	}
	return resp, doc, true
}

// pollOne fetches and parses one feed and decides when to poll it next.
func (p *Poller) pollOne(ctx context.Context, cfg Config, hosts *hostLimiter, f store.Feed) fetched {
	started := p.now()
	r := store.PollResult{FeedID: f.ID, PolledAt: started}
	fail := func(err error) fetched {
		// The fetch URL carries the feed's credentials; what is stored,
		// logged and shown must not.
		err = feeds.RedactError(err, f.URL, f.Secret)
		r.Err = err.Error()
		r.Errors = f.Errors + 1
		r.NextPollAt = started.Add(p.backoff(cfg, f, r.Errors))
		var he *feeds.HTTPError
		if errors.As(err, &he) {
			r.Status = he.Status
			switch {
			case he.Gone():
				r.DisableReason = "410 Gone: the publisher removed this feed"
			case he.RetryAfter > 0:
				// The server said when to come back: that, not our backoff.
				r.NextPollAt = started.Add(min(he.RetryAfter, 24*time.Hour))
			}
		}
		return fetched{feed: f, result: r, err: err, started: started}
	}

	release, err := hosts.acquire(ctx, f.URL)
	if err != nil {
		// Only ctx ending makes acquire fail; save drops such results.
		return fetched{feed: f, result: r, err: err, started: started}
	}
	resp, err := p.Fetcher.Fetch(ctx, feeds.Request{URL: f.FetchURL(), ETag: f.ETag, LastModified: f.LastModified})
	release()
	if err != nil {
		return fail(err)
	}
	r.Status = resp.Status
	r.NewURL = resp.PermanentURL
	// Links and images are resolved against the public URL: relative
	// ones would otherwise carry the credentials into what is served.
	base, _ := feeds.SplitSecrets(resp.URL)
	if base == "" {
		base = f.URL
	}
	if resp.NotModified {
		r.NotModified = true
		r.NextPollAt = started.Add(p.interval(cfg, f, f.TTL, resp.MaxAge))
		return fetched{feed: f, result: r, started: started}
	}
	doc, err := feeds.ParseCharset(resp.Body, resp.Charset(), base, started)
	var nf *feeds.NotFeedError
	if errors.As(err, &nf) && nf.IsPage() && len(nf.FeedLinks) > 0 {
		// A subscription to a site's page (an OPML entry, a config line
		// written by hand): follow the feed the page announces, as add
		// does, and keep it, as a permanent redirect is kept.
		if r2, doc2, ok := p.followFeedLink(ctx, hosts, nf.FeedLinks[0], started); ok {
			resp, doc, err = r2, doc2, nil
			r.Status, r.NewURL = resp.Status, nf.FeedLinks[0]
			if resp.PermanentURL != "" {
				r.NewURL = resp.PermanentURL
			}
		}
	}
	if err != nil {
		return fail(err)
	}
	r.ETag, r.LastModified = resp.ETag, resp.LastModified
	r.Title, r.SiteLink, r.Language, r.TTL = doc.Title, doc.SiteLink, doc.Language, doc.TTL
	dropped := feeds.LimitItems(doc, cfg.MaxItems)
	tooOld := 0
	if cfg.MaxAge > 0 {
		cutoff := started.Add(-cfg.MaxAge)
		kept := doc.Entries[:0]
		for _, e := range doc.Entries {
			if e.Published.Before(cutoff) {
				tooOld++
				continue
			}
			kept = append(kept, e)
		}
		doc.Entries = kept
	}
	r.Entries = doc.Entries
	r.NextPollAt = started.Add(p.interval(cfg, f, doc.TTL, resp.MaxAge))
	return fetched{feed: f, result: r, started: started, truncated: doc.Truncated, dropped: dropped, tooOld: tooOld}
}

// interval is the time to the next poll after a success: the feed's own
// interval, or the default, lengthened when the publisher asks for less
// frequent polls (within bounds), with jitter.
func (p *Poller) interval(cfg Config, f store.Feed, ttl, maxAge time.Duration) time.Duration {
	d := baseInterval(cfg, f)
	if asked := max(ttl, maxAge); asked > 0 {
		asked = min(max(asked, cfg.MinInterval), cfg.MaxInterval)
		d = max(d, asked)
	}
	return p.jitter(d)
}

// baseInterval is the feed's own interval, or the default, never shorter
// than MinInterval: politeness does not depend on every per-feed setting
// having been checked where it was made.
func baseInterval(cfg Config, f store.Feed) time.Duration {
	d := cfg.Interval
	if f.Interval > 0 {
		d = f.Interval
	}
	return max(d, cfg.MinInterval)
}

// backoff is the delay after the n-th consecutive error: the interval times
// 2^n, capped, with jitter.
func (p *Poller) backoff(cfg Config, f store.Feed, n int) time.Duration {
	d := baseInterval(cfg, f)
	base := d
	for i := 0; i < n && d < cfg.MaxBackoff; i++ {
		d *= 2
	}
	// A failing feed is never polled more often than a working one, even
	// when its own interval is longer than the backoff cap.
	return max(min(p.jitter(min(d, cfg.MaxBackoff)), cfg.MaxBackoff), base)
}

// hostLimiter bounds the requests in flight to each host.
type hostLimiter struct {
	per int
	mu  sync.Mutex
	sem map[string]chan struct{}
}

func newHostLimiter(per int) *hostLimiter {
	return &hostLimiter{per: per, sem: make(map[string]chan struct{})}
}

func (h *hostLimiter) acquire(ctx context.Context, rawURL string) (release func(), err error) {
	host := rawURL
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		host = u.Host
	}
	h.mu.Lock()
	ch, ok := h.sem[host]
	if !ok {
		ch = make(chan struct{}, h.per)
		h.sem[host] = ch
	}
	h.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("poll %s: %w", rawURL, ctx.Err())
	}
}
