package feeds

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"golang.org/x/net/html/charset"
)

// Subscription is one feed in an OPML subscription list, the format every
// feed reader imports and exports.
type Subscription struct {
	URL      string // the feed (xmlUrl)
	Title    string
	SiteLink string // the site (htmlUrl)
}

// ReadOPML returns the subscriptions in an OPML document in document order.
// Folders are flattened (storyline groups by topic, not by folder), outlines
// without xmlUrl are only folders, and a feed listed twice is kept once.
func ReadOPML(r io.Reader) ([]Subscription, error) {
	var subs []Subscription
	seen := make(map[string]bool)
	for s, err := range ScanOPML(r) {
		if err != nil {
			return nil, err
		}
		if !seen[s.URL] {
			seen[s.URL] = true
			subs = append(subs, s)
		}
	}
	return subs, nil
}

// ScanOPML yields the subscriptions of an OPML document one by one, as
// ReadOPML lists them but without dropping repeats, reading the document as
// a stream: a list of 300,000 feeds needs no more memory than one outline.
// An error ends the sequence; the subscriptions yielded before it came
// from the part of the document that was well-formed.
func ScanOPML(r io.Reader) iter.Seq2[Subscription, error] {
	return func(yield func(Subscription, error) bool) {
		d := xml.NewDecoder(r)
		d.Strict = false
		d.CharsetReader = charset.NewReaderLabel
		root := false
		for {
			tok, err := d.Token()
			if errors.Is(err, io.EOF) {
				if !root {
					yield(Subscription{}, errors.New("feeds: read OPML: no <opml> element in document"))
				}
				return
			}
			if err != nil {
				yield(Subscription{}, fmt.Errorf("feeds: read OPML: %w", err))
				return
			}
			se, ok := tok.(xml.StartElement)
			if !ok {
				continue
			}
			if !root {
				if !strings.EqualFold(se.Name.Local, "opml") {
					yield(Subscription{}, fmt.Errorf("feeds: read OPML: root element is <%s>, not <opml>", se.Name.Local))
					return
				}
				root = true
				continue
			}
			if !strings.EqualFold(se.Name.Local, "outline") {
				continue
			}
			u := strings.TrimSpace(attr(se.Attr, "xmlUrl"))
			if u == "" {
				continue // a folder
			}
			title := strings.TrimSpace(attr(se.Attr, "title"))
			if title == "" {
				title = strings.TrimSpace(attr(se.Attr, "text"))
			}
			if title == u {
				title = "" // WriteOPML's stand-in for a missing title
			}
			if !yield(Subscription{URL: u, Title: title, SiteLink: strings.TrimSpace(attr(se.Attr, "htmlUrl"))}, nil) {
				return
			}
		}
	}
}

// attr looks an attribute up ignoring case, because exporters disagree on
// xmlUrl versus xmlurl.
func attr(attrs []xml.Attr, name string) string {
	for _, a := range attrs {
		if strings.EqualFold(a.Name.Local, name) {
			return a.Value
		}
	}
	return ""
}

type opmlOut struct {
	XMLName xml.Name         `xml:"opml"`
	Version string           `xml:"version,attr"`
	Title   string           `xml:"head>title"`
	Body    []opmlOutOutline `xml:"body>outline"`
}

type opmlOutOutline struct {
	Type    string `xml:"type,attr"`
	Text    string `xml:"text,attr"`
	Title   string `xml:"title,attr,omitempty"`
	XMLURL  string `xml:"xmlUrl,attr"`
	HTMLURL string `xml:"htmlUrl,attr,omitempty"`
}

// WriteOPML writes subs as an OPML 2.0 document that ReadOPML reads back
// into the same list.
func WriteOPML(w io.Writer, title string, subs []Subscription) error {
	doc := opmlOut{Version: "2.0", Title: title, Body: make([]opmlOutOutline, 0, len(subs))}
	for _, s := range subs {
		// OPML 2.0 requires text on every outline; the URL stands in for a
		// missing title.
		text := s.Title
		if text == "" {
			text = s.URL
		}
		doc.Body = append(doc.Body, opmlOutOutline{
			Type: "rss", Text: text, Title: s.Title, XMLURL: s.URL, HTMLURL: s.SiteLink,
		})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("feeds: write OPML: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("feeds: write OPML: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("feeds: write OPML: %w", err)
	}
	return nil
}
