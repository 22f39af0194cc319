package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// commonFeedPaths are tried, in order, on pages that advertise no feed; they
// cover the defaults of the common blog engines and static site generators.
var commonFeedPaths = []string{"/feed", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml", "/feed.json"}

// feedTypes are the <link type> values that announce a feed.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
	"application/json":      true,
	"application/rdf+xml":   true,
}

// Discover returns the feed URLs for pageURL, so that a user can subscribe
// to a site by its home page. If pageURL is itself a feed, it is returned
// alone. Otherwise the page's <link rel="alternate"> feeds are returned as
// announced (not fetched); without any, the common feed paths on the same
// host are fetched and those that parse as feeds are returned. An empty
// result with a nil error means the site has no feed we could find.
func Discover(ctx context.Context, f *Fetcher, pageURL string) ([]string, error) {
	resp, err := f.Fetch(ctx, Request{URL: pageURL})
	if err != nil {
		return nil, fmt.Errorf("feeds: discover %s: %w", pageURL, err)
	}
	if _, err := ParseCharset(resp.Body, resp.Charset(), resp.URL, time.Time{}); err == nil {
		return []string{resp.URL}, nil
	}
	base, err := url.Parse(resp.URL)
	if err != nil {
		return nil, fmt.Errorf("feeds: discover %s: %w", pageURL, err)
	}
	if links := FeedLinks(resp.Body, base); len(links) > 0 {
		return links, nil
	}

	var found []string
	for _, p := range commonFeedPaths {
		if err := ctx.Err(); err != nil {
			return found, fmt.Errorf("feeds: discover %s: %w", pageURL, err)
		}
		candidate := base.ResolveReference(&url.URL{Path: p}).String()
		r, err := f.Fetch(ctx, Request{URL: candidate})
		if err != nil {
			var herr *HTTPError
			if errors.As(err, &herr) || errors.Is(err, ErrTooLarge) {
				continue
			}
			// Network trouble with the host: the remaining paths would fail
			// the same way.
			if len(found) == 0 {
				return nil, fmt.Errorf("feeds: discover %s: %w", pageURL, err)
			}
			return found, nil
		}
		if _, err := ParseCharset(r.Body, r.Charset(), r.URL, time.Time{}); err == nil && !slices.Contains(found, r.URL) {
			found = append(found, r.URL)
		}
	}
	return found, nil
}

// FeedLinks extracts the feeds an HTML page announces with
// <link rel="alternate" type="application/rss+xml|atom+xml|feed+json|json">,
// resolved against base (and the page's <base href>), in document order and
// without duplicates.
func FeedLinks(page []byte, base *url.URL) []string {
	var links []string
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return links
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Body {
				// Feeds are announced in <head>; the body can be huge.
				return links
			}
			if !hasAttr || (a != atom.Link && a != atom.Base) {
				continue
			}
			var rel, typ, href string
			for {
				k, v, more := z.TagAttr()
				switch string(k) {
				case "rel":
					rel = string(v)
				case "type":
					typ = string(v)
				case "href":
					href = strings.TrimSpace(string(v))
				}
				if !more {
					break
				}
			}
			if a == atom.Base {
				if b := absURL(base, href); b != nil {
					base = b
				}
				continue
			}
			typ, _, _ = strings.Cut(typ, ";")
			if !hasToken(rel, "alternate") || !feedTypes[strings.ToLower(strings.TrimSpace(typ))] {
				continue
			}
			if u := absURL(base, href); u != nil {
				s := u.String()
				if !slices.Contains(links, s) {
					links = append(links, s)
				}
			}
		}
	}
}

// hasToken reports whether the space-separated list contains tok, ignoring
// case, as rel="Alternate feed" must match.
func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}
