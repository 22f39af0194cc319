package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultUserAgent names the software, as politeness towards publishers
// requires, so that they can tell who polls them and whom to contact.
const DefaultUserAgent = "storyline/0.1 (+https://github.com/storyline/storyline)"

// Defaults applied when the corresponding Fetcher field is zero.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultTimeout        = 30 * time.Second
	DefaultMaxBodyBytes   = 16 << 20
	DefaultMaxRedirects   = 5
)

// maxRetryAfter bounds how long a publisher may ask us to stay away, so that
// a typo in a header cannot silence a feed for a year.
const maxRetryAfter = 24 * time.Hour

// acceptFeeds prefers feed types but accepts anything, because many servers
// label feeds text/html or application/octet-stream.
const acceptFeeds = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, " +
	"application/json;q=0.7, text/html;q=0.5, */*;q=0.1"

// Errors that callers branch on: they are always wrapped with the URL.
var (
	// ErrTooLarge means the body, compressed or decompressed, exceeded
	// Fetcher.MaxBodyBytes; nothing is returned rather than a truncated feed.
	ErrTooLarge = errors.New("response body too large")
	// ErrTooManyRedirects means the chain was longer than Fetcher.MaxRedirects.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrRedirectLoop means a redirect pointed back to a URL already visited.
	ErrRedirectLoop = errors.New("redirect loop")
	// ErrTimeout means the request did not complete within Fetcher.Timeout
	// (or the caller's deadline); the scheduler treats it like a 5xx.
	ErrTimeout = errors.New("timeout")
	// ErrAddressRefused means the fetch would have connected to an address
	// that DenyPrivateNetworks or the link-local rule forbids and AllowHosts
	// does not allow. Retrying is pointless until the configuration changes.
	ErrAddressRefused = errors.New("address refused")
)

// Fetcher performs conditional, size-capped HTTP GETs for feeds. The zero
// value is usable; the configuration fields are read on the first Fetch and
// must not change afterwards. A Fetcher is safe for concurrent use and should
// be shared, so that connections are reused across polls.
type Fetcher struct {
	// UserAgent is sent with every request; DefaultUserAgent when empty.
	UserAgent string
	// ConnectTimeout bounds the TCP dial and the TLS handshake each.
	ConnectTimeout time.Duration
	// Timeout bounds a whole fetch, redirects and body included.
	Timeout time.Duration
	// MaxBodyBytes caps both the bytes on the wire and the decompressed body.
	MaxBodyBytes int64
	// MaxRedirects is how many redirects one fetch follows.
	MaxRedirects int
	// Now is the clock used to turn a Retry-After date into a delay; tests
	// inject a fixed one. time.Now when nil.
	Now func() time.Time
	// DenyPrivateNetworks refuses loopback, private (RFC 1918), unique-local
	// (fc00::/7), carrier-grade NAT, unspecified and multicast addresses.
	// Link-local addresses (169.254.0.0/16, fe80::/10) and cloud metadata
	// services are refused whatever its value. The check is made on each
	// resolved address as it is dialled, so redirects and DNS names that
	// point inside are refused too. It is off in the zero value because a
	// feed on the LAN or on localhost is a normal wish of whoever runs this.
	//
	// Through a proxy (HTTP_PROXY, HTTPS_PROXY) the dial goes to the proxy:
	// the proxy's own address is checked, and must be allowed if private,
	// while the feed's host is resolved by the proxy, which must refuse
	// internal destinations itself; only an IP literal in the URL is still
	// checked here.
	DenyPrivateNetworks bool
	// AllowHosts lists host names (matched exactly, without port), IP
	// addresses and networks such as 10.0.0.0/8 that may always be
	// connected to, link-local ones included. See CheckAllowHost.
	AllowHosts []string
	// Transport, if set, replaces the default transport (e.g. for tests or a
	// proxy); ConnectTimeout, DenyPrivateNetworks and AllowHosts then no
	// longer apply.
	Transport http.RoundTripper

	// proxy is http.ProxyFromEnvironment when nil; tests set it because
	// the environment is read only once per process.
	proxy func(*http.Request) (*url.URL, error)

	once    sync.Once
	client  *http.Client
	initErr error
}

// NewFetcher returns a Fetcher with the defaults filled in explicitly, so
// that callers can log or override them.
func NewFetcher(userAgent string) *Fetcher {
	f := &Fetcher{UserAgent: userAgent}
	f.setDefaults()
	return f
}

func (f *Fetcher) setDefaults() {
	if f.UserAgent == "" {
		f.UserAgent = DefaultUserAgent
	}
	if f.ConnectTimeout <= 0 {
		f.ConnectTimeout = DefaultConnectTimeout
	}
	if f.Timeout <= 0 {
		f.Timeout = DefaultTimeout
	}
	if f.MaxBodyBytes <= 0 {
		f.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if f.MaxRedirects <= 0 {
		f.MaxRedirects = DefaultMaxRedirects
	}
	if f.Now == nil {
		f.Now = time.Now
	}
}

func (f *Fetcher) init() {
	f.once.Do(func() {
		f.setDefaults()
		rt := f.Transport
		if rt == nil {
			policy, err := newAddressPolicy(f.DenyPrivateNetworks, f.AllowHosts)
			if err != nil {
				f.initErr = fmt.Errorf("feeds: AllowHosts: %w", err)
				return
			}
			proxy := f.proxy
			if proxy == nil {
				proxy = http.ProxyFromEnvironment
			}
			dialer := &net.Dialer{Timeout: f.ConnectTimeout, KeepAlive: 30 * time.Second}
			rt = &http.Transport{
				Proxy:                 policy.proxy(proxy),
				DialContext:           policy.dialContext(dialer),
				ForceAttemptHTTP2:     true,
				TLSHandshakeTimeout:   f.ConnectTimeout,
				ExpectContinueTimeout: time.Second,
				MaxIdleConns:          256,
				// The scheduler runs at most two requests per host.
				MaxIdleConnsPerHost:    2,
				IdleConnTimeout:        90 * time.Second,
				MaxResponseHeaderBytes: 1 << 20,
			}
		}
		f.client = &http.Client{Transport: rt, CheckRedirect: f.checkRedirect}
	})
}

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.MaxRedirects {
		return fmt.Errorf("%w: stopped after %d redirects", ErrTooManyRedirects, f.MaxRedirects)
	}
	next := req.URL.String()
	for _, prev := range via {
		if prev.URL.String() == next {
			return fmt.Errorf("%w: %s visited twice", ErrRedirectLoop, next)
		}
	}
	return nil
}

// Request is one conditional GET. ETag and LastModified are the validators
// saved from the previous successful fetch, empty on the first.
type Request struct {
	URL          string
	ETag         string
	LastModified string
}

// Response is what the scheduler needs to store and to plan the next poll.
type Response struct {
	// Status is 200 (or another 2xx) or 304; other statuses are an *HTTPError.
	Status int
	// NotModified is true on 304: Body is empty and the stored entries stand.
	NotModified bool
	Body        []byte
	// URL is where the body actually came from, after redirects; relative
	// links in the document resolve against it.
	URL string
	// PermanentURL is set when every redirect from Request.URL was a 301 or
	// 308: the subscription should be updated to it. A single 302 or 307
	// anywhere in the chain leaves it empty.
	PermanentURL string
	// ETag and LastModified are the validators to send next time; on a 304
	// they may be empty, and the stored ones stay valid.
	ETag         string
	LastModified string
	// MaxAge is Cache-Control max-age, zero when absent; with Feed.TTL it
	// bounds how soon the scheduler polls again.
	MaxAge time.Duration
	// ContentType is the Content-Type header. Parse sniffs the kind of
	// document from the body instead, because servers mislabel feeds too
	// often to trust it; its charset helps only where the body is silent
	// (see ParseCharset and Charset).
	ContentType string
}

// Charset returns the charset parameter of the response's Content-Type,
// or "".
func (r *Response) Charset() string {
	_, params, err := mime.ParseMediaType(r.ContentType)
	if err != nil {
		return ""
	}
	return params["charset"]
}

// HTTPError is a non-2xx, non-304 answer. The scheduler branches on it:
// Gone feeds are disabled, RetryAfter delays the next poll.
type HTTPError struct {
	Status int
	URL    string
	// RetryAfter is the delay asked for by a 429 or 503, clamped to [0, 24h];
	// zero when the server did not say.
	RetryAfter time.Duration
}

// Error names the URL and status so that a log line alone explains the failure.
func (e *HTTPError) Error() string {
	s := fmt.Sprintf("feeds: fetch %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Gone reports a 410: the publisher says the feed will never come back, so
// polling should stop.
func (e *HTTPError) Gone() bool { return e.Status == http.StatusGone }

// Temporary reports statuses worth retrying later with backoff (408, 429,
// 5xx), as opposed to 4xx answers that need a person to look at the feed.
func (e *HTTPError) Temporary() bool {
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Fetch performs one GET of req.URL. It returns *HTTPError for error
// statuses, wraps ErrTooLarge, ErrTooManyRedirects, ErrRedirectLoop or
// ErrTimeout for the failures the scheduler treats specially, and
// ErrAddressRefused when the URL, a redirect or a DNS answer led to an
// address the Fetcher may not connect to.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Response, error) {
	f.init()
	if f.initErr != nil {
		return nil, f.initErr
	}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()

	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("feeds: fetch %s: %w", req.URL, err)
	}
	h := hreq.Header
	h.Set("User-Agent", f.UserAgent)
	h.Set("Accept", acceptFeeds)
	// Asking for gzip ourselves turns off the transport's transparent
	// decompression, which would hide the decompressed size from the cap.
	h.Set("Accept-Encoding", "gzip")
	if req.ETag != "" {
		h.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		h.Set("If-Modified-Since", req.LastModified)
	}

	resp, err := f.client.Do(hreq)
	if err != nil {
		return nil, f.wrapErr(ctx, req.URL, err)
	}
	defer resp.Body.Close()

	out := &Response{
		Status:       resp.StatusCode,
		URL:          resp.Request.URL.String(),
		PermanentURL: permanentURL(req.URL, resp),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		MaxAge:       maxAge(resp.Header.Get("Cache-Control")),
		ContentType:  resp.Header.Get("Content-Type"),
	}

	switch {
	case resp.StatusCode == http.StatusNotModified:
		out.NotModified = true
		return out, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		herr := &HTTPError{Status: resp.StatusCode, URL: req.URL}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			herr.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), f.Now())
		}
		return nil, herr
	}

	body, err := f.readBody(resp)
	if err != nil {
		return nil, f.wrapErr(ctx, req.URL, err)
	}
	out.Body = body
	return out, nil
}

// wrapErr adds the URL and, for deadline failures, ErrTimeout, so callers
// need not know which layer (dial, headers, body) hit the deadline. A
// refused address drops the layers in between, whose text only repeats
// the address, and keeps the redirect that led there.
func (f *Fetcher) wrapErr(ctx context.Context, rawURL string, err error) error {
	var refused *refusedError
	if errors.As(err, &refused) {
		var uerr *url.Error
		if errors.As(err, &uerr) && uerr.URL != rawURL {
			return fmt.Errorf("feeds: fetch %s: redirected to %s: %w", rawURL, uerr.URL, refused)
		}
		return fmt.Errorf("feeds: fetch %s: %w", rawURL, refused)
	}
	// net/http's url.Error says the method and the URL again ("Get
	// \"https://...\": ..."): keep what it wraps, and where a redirect led
	// when that is elsewhere.
	inner, where := err, ""
	var uerr *url.Error
	if errors.As(err, &uerr) && uerr.Err != nil {
		inner = uerr.Err
		if uerr.URL != rawURL {
			where = "redirected to " + uerr.URL + ": "
		}
	}
	var nerr net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded ||
		(errors.As(err, &nerr) && nerr.Timeout()) {
		return fmt.Errorf("feeds: fetch %s: %s%w after %s: %w", rawURL, where, ErrTimeout, f.Timeout, inner)
	}
	return fmt.Errorf("feeds: fetch %s: %s%w", rawURL, where, inner)
}

// readBody reads at most MaxBodyBytes from the wire and, for gzip, at most
// MaxBodyBytes after decompression, so a small gzip bomb cannot exhaust
// memory.
func (f *Fetcher) readBody(resp *http.Response) ([]byte, error) {
	limit := f.MaxBodyBytes
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: Content-Length %d exceeds %d bytes", ErrTooLarge, resp.ContentLength, limit)
	}
	raw, err := readCapped(resp.Body, limit, resp.ContentLength)
	if err != nil {
		return nil, err
	}
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return raw, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		body, err := readCapped(zr, limit, int64(len(raw))*4)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return body, nil
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
}

// readCapped reads r fully, failing with ErrTooLarge instead of truncating
// once more than limit bytes arrive. hint sizes the first allocation.
func readCapped(r io.Reader, limit, hint int64) ([]byte, error) {
	if hint <= 0 || hint > limit {
		hint = 32 << 10
	}
	var buf bytes.Buffer
	buf.Grow(int(min(hint, limit) + 1))
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// permanentURL walks the redirect chain back from the final response and
// returns the final URL only if every hop was permanent.
func permanentURL(start string, resp *http.Response) string {
	final := resp.Request.URL.String()
	if final == start {
		return ""
	}
	hops := 0
	for r := resp.Request; r.Response != nil; r = r.Response.Request {
		switch r.Response.StatusCode {
		case http.StatusMovedPermanently, http.StatusPermanentRedirect:
			hops++
		default:
			return ""
		}
	}
	if hops == 0 {
		return ""
	}
	// A move from https to http is followed for this request but not made
	// permanent: a subscription must not be downgraded by a redirect.
	if u, err := url.Parse(start); err == nil && u.Scheme == "https" && resp.Request.URL.Scheme != "https" {
		return ""
	}
	return final
}

// maxAge extracts max-age from a Cache-Control header value.
func maxAge(cc string) time.Duration {
	for cc != "" {
		var part string
		part, cc, _ = strings.Cut(cc, ",")
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "max-age") {
			continue
		}
		secs, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
		if err != nil || secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(365*24*time.Hour/time.Second))) * time.Second
	}
	return 0
}

// parseRetryAfter accepts both forms RFC 9110 allows: delay-seconds and an
// HTTP date, the latter relative to now.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0 // and a huge negative would overflow below
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0
	}
	return min(max(d, 0), maxRetryAfter)
}
