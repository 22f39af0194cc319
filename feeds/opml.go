package feeds

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
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

type opmlOutline struct {
	Attrs    []xml.Attr    `xml:",any,attr"`
	Outlines []opmlOutline `xml:"outline"`
}

type opmlDoc struct {
	Body struct {
		Outlines []opmlOutline `xml:"outline"`
	} `xml:"body"`
}

// ReadOPML returns the subscriptions in an OPML document in document order.
// Folders are flattened (storyline groups by topic, not by folder), outlines
// without xmlUrl are only folders, and a feed listed twice is kept once.
func ReadOPML(r io.Reader) ([]Subscription, error) {
	d := xml.NewDecoder(r)
	d.Strict = false
	d.CharsetReader = charset.NewReaderLabel
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("feeds: read OPML: no <opml> element in document")
		}
		if err != nil {
			return nil, fmt.Errorf("feeds: read OPML: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !strings.EqualFold(se.Name.Local, "opml") {
			return nil, fmt.Errorf("feeds: read OPML: root element is <%s>, not <opml>", se.Name.Local)
		}
		var doc opmlDoc
		if err := d.DecodeElement(&doc, &se); err != nil {
			return nil, fmt.Errorf("feeds: read OPML: %w", err)
		}
		var subs []Subscription
		seen := make(map[string]bool)
		flattenOutlines(doc.Body.Outlines, seen, &subs)
		return subs, nil
	}
}

func flattenOutlines(outlines []opmlOutline, seen map[string]bool, subs *[]Subscription) {
	for _, o := range outlines {
		if u := strings.TrimSpace(attr(o.Attrs, "xmlUrl")); u != "" && !seen[u] {
			seen[u] = true
			title := strings.TrimSpace(attr(o.Attrs, "title"))
			if title == "" {
				title = strings.TrimSpace(attr(o.Attrs, "text"))
			}
			if title == u {
				title = "" // WriteOPML's stand-in for a missing title
			}
			*subs = append(*subs, Subscription{
				URL:      u,
				Title:    title,
				SiteLink: strings.TrimSpace(attr(o.Attrs, "htmlUrl")),
			})
		}
		flattenOutlines(o.Outlines, seen, subs)
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
