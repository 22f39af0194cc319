// Package demo holds a small, self-contained news corpus and a local HTTP
// server that serves it, so that `storyline serve --demo` can show real
// storylines to a new user without any network access.
//
// The corpus is five invented outlets on fake .example domains, in the three
// feed formats storyline reads: two RSS 2.0 feeds, two Atom 1.0 feeds and one
// JSON Feed 1.1 feed, 61 items in all, dated between 2026-11-24T00:00Z and
// 2026-11-26T18:00Z. The items cover six storylines, each reported by at
// least three outlets, plus a few one-off stories. Three of the storylines
// (the Geneva talks on the US peace plan for Ukraine, the European
// counter-proposal and its rejection by the Kremlin, and the overnight
// strikes on Kyiv) deliberately share much of their vocabulary, so that a
// clusterer has to separate them by their specific terms.
//
// The expected storyline of every item is listed in testdata/LABELS.tsv,
// one line per item with three tab-separated fields: the feed file name, the
// item's guid/id, and one of geneva, e3, strikes, sport, tech, weather or
// none. LABELS.tsv is not embedded; tests read it from disk.
//
// All outlets, people (other than a few named public figures), events and
// text in the corpus are made up.
package demo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

//go:embed testdata/*.xml testdata/*.json
var embedded embed.FS

// images are the pictures some items carry (media:thumbnail), drawn for
// the demo and served at /images/, as an outlet serves its own. They are
// kept apart from the feeds, so that Files holds feeds only.
//
//go:embed images/*.svg
var images embed.FS

// Content types sent for each feed format.
const (
	contentTypeRSS      = "application/rss+xml; charset=utf-8"
	contentTypeAtom     = "application/atom+xml; charset=utf-8"
	contentTypeJSONFeed = "application/feed+json; charset=utf-8"
)

// Files returns the demo feed files. The feeds are at the root of the
// returned file system, named after their outlet, e.g. "northgate-herald.xml"
// or "lantern-report.json".
func Files() fs.FS {
	sub, err := fs.Sub(embedded, "testdata")
	if err != nil {
		panic(err) // "testdata" is a valid, embedded directory
	}
	return sub
}

// feedFile is one feed as served over HTTP.
type feedFile struct {
	name        string
	data        []byte
	contentType string
	etag        string
}

// loadFiles reads every embedded feed and works out its content type and
// ETag. The result is sorted by name.
func loadFiles(shift time.Duration) ([]feedFile, error) {
	fsys := Files()
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var files []feedFile
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		if shift != 0 {
			data = shiftWeekdays(shiftDates(data, shift), daysMoved(shift))
		}
		ct, err := contentType(e.Name(), data)
		if err != nil {
			return nil, fmt.Errorf("demo: %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(data)
		files = append(files, feedFile{
			name:        e.Name(),
			data:        data,
			contentType: ct,
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		})
	}
	return files, nil
}

// contentType returns the media type for a feed: JSON Feed for .json files,
// and RSS or Atom for .xml files depending on their root element.
func contentType(name string, data []byte) (string, error) {
	switch path.Ext(name) {
	case ".json":
		return contentTypeJSONFeed, nil
	case ".xml":
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			tok, err := d.Token()
			if err != nil {
				return "", fmt.Errorf("no root element: %w", err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				switch se.Name.Local {
				case "rss":
					return contentTypeRSS, nil
				case "feed":
					return contentTypeAtom, nil
				}
				return "", fmt.Errorf("unknown root element <%s>", se.Name.Local)
			}
		}
	}
	return "", errors.New("unknown file extension")
}

// Server serves the demo feeds over HTTP on a loopback address. Create one
// with Start and release it with Close.
type Server struct {
	srv      *http.Server
	base     string // "http://127.0.0.1:port/"
	names    []string
	done     chan struct{}
	serveErr error

	closeOnce sync.Once
	closeErr  error
}

// Start starts a server for the demo feeds on 127.0.0.1 with a random free
// port, and returns once it accepts connections.
//
// Each feed is served at /<file name> (see URLs) with the Content-Type of its
// format (application/rss+xml, application/atom+xml or
// application/feed+json), a strong ETag derived from its content and a
// Last-Modified time equal to the server's start time; conditional requests
// (If-None-Match, If-Modified-Since) are answered with 304 Not Modified. The
// root path lists the feed URLs as plain text.
func Start() (*Server, error) {
	return start(0)
}

// Newest is the publication time of the newest story in the corpus.
var Newest = time.Date(2026, 11, 26, 16, 40, 0, 0, time.UTC)

// StartLive is Start with every date in the feeds moved forward so that the
// newest story was published at now: the corpus was written on one day, and
// a demo a month later should still show today's news, inside the topic
// window, rather than an empty front page.
func StartLive(now time.Time) (*Server, error) {
	return start(now.UTC().Truncate(time.Minute).Sub(Newest))
}

func start(shift time.Duration) (*Server, error) {
	files, err := loadFiles(shift)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	s := &Server{
		base: "http://" + ln.Addr().String() + "/",
		done: make(chan struct{}),
	}
	for _, f := range files {
		s.names = append(s.names, f.name)
	}
	s.srv = &http.Server{
		Handler:           s.handler(files, time.Now().UTC().Truncate(time.Second)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		defer close(s.done)
		s.serveErr = s.srv.Serve(ln)
	}()
	return s, nil
}

// handler returns the HTTP handler serving files, all with Last-Modified
// modTime.
func (s *Server) handler(files []feedFile, modTime time.Time) http.Handler {
	byPath := make(map[string]feedFile, len(files))
	for _, f := range files {
		byPath["/"+f.name] = f
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if r.Method == http.MethodGet {
				io.WriteString(w, strings.Join(s.URLs(), "\n")+"\n")
			}
			return
		}
		f, ok := byPath[r.URL.Path]
		if !ok {
			if name, isImage := strings.CutPrefix(r.URL.Path, "/images/"); isImage && !strings.Contains(name, "/") {
				// The pictures some items carry (media:thumbnail), as
				// an outlet serves its own.
				if data, err := fs.ReadFile(images, "images/"+name); err == nil {
					w.Header().Set("Content-Type", "image/svg+xml")
					w.Header().Set("Cache-Control", "max-age=86400")
					http.ServeContent(w, r, name, modTime, bytes.NewReader(data))
					return
				}
			}
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("ETag", f.etag)
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, f.name, modTime, bytes.NewReader(f.data))
	})
}

// URLs returns the absolute URLs of the demo feeds, sorted.
func (s *Server) URLs() []string {
	urls := make([]string, len(s.names))
	for i, name := range s.names {
		urls[i] = s.base + name
	}
	slices.Sort(urls)
	return urls
}

// Close stops the server, closing its listener and any open connections.
// It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.srv.Close()
		<-s.done
		if err == nil && !errors.Is(s.serveErr, http.ErrServerClosed) {
			err = s.serveErr
		}
		s.closeErr = err
	})
	return s.closeErr
}

// Dates as the demo files write them: RFC 1123 in RSS, RFC 3339 in Atom and
// JSON Feed.
var (
	rfc1123Date = regexp.MustCompile(`(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} (?:GMT|[+-]\d{4})`)
	rfc3339Date = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})`)
)

// weekday matches the name of a day in the stories' texts ("on Tuesday",
// "Wednesday's strikes").
var weekday = regexp.MustCompile(`\b(Sun|Mon|Tues|Wednes|Thurs|Fri|Satur)day\b`)

// daysMoved is how many calendar days (UTC) a shift by d moves the newest
// story: the day its text calls "Tuesday" is that many days later.
func daysMoved(d time.Duration) int {
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	return int(day(Newest.Add(d)).Sub(day(Newest)).Hours() / 24)
}

// shiftWeekdays moves every weekday named in a feed document by days, so
// that a story the live demo dates to Saturday says "on Saturday", not the
// "on Tuesday" of the day the corpus was written. A story published near
// midnight may be a day off; the texts name the day of the news they
// report, which is at most a day before their own.
func shiftWeekdays(data []byte, days int) []byte {
	names := [...]string{"Sun", "Mon", "Tues", "Wednes", "Thurs", "Fri", "Satur"}
	return weekday.ReplaceAllFunc(data, func(b []byte) []byte {
		i := slices.Index(names[:], string(b[:len(b)-len("day")]))
		return []byte(names[((i+days)%7+7)%7] + "day")
	})
}

// shiftDates moves every date in a feed document by d, keeping its layout
// and time zone.
func shiftDates(data []byte, d time.Duration) []byte {
	data = rfc1123Date.ReplaceAllFunc(data, func(b []byte) []byte {
		layout := time.RFC1123Z
		if bytes.HasSuffix(b, []byte("GMT")) {
			layout = time.RFC1123
		}
		t, err := time.Parse(layout, string(b))
		if err != nil {
			return b
		}
		return []byte(t.Add(d).Format(layout))
	})
	return rfc3339Date.ReplaceAllFunc(data, func(b []byte) []byte {
		t, err := time.Parse(time.RFC3339, string(b))
		if err != nil {
			return b
		}
		return []byte(t.Add(d).Format(time.RFC3339))
	})
}
