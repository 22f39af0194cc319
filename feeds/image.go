package feeds

import (
	"html"
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
)

// entryImage finds a story's picture, in the order feeds mean it: Media
// RSS's thumbnail (what BBC, Guardian and most newspapers publish), the
// item's own image as gofeed reads it (iTunes image, an image
// media:content, an image enclosure, JSON Feed's image), an image
// enclosure of an Atom entry, then the first <img> of the content or the
// summary. A relative URL in the feed's markup is resolved against the
// document (docBase); the content's and summary's are absolute already,
// resolved against the article by the sanitizer. Only http(s) ones are
// kept.
func entryImage(it *gofeed.Item, content, summary string, docBase *url.URL) string {
	candidates := []string{mediaThumbnail(it.Extensions)}
	if it.Image != nil {
		candidates = append(candidates, it.Image.URL)
	}
	for _, enc := range it.Enclosures {
		if enc != nil && strings.HasPrefix(strings.ToLower(enc.Type), "image/") {
			candidates = append(candidates, enc.URL)
		}
	}
	for _, c := range candidates {
		if u := absURL(docBase, c); u != nil {
			return u.String()
		}
	}
	for _, c := range []string{firstImg(content), firstImg(summary)} {
		if u := absURL(nil, c); u != nil {
			return u.String()
		}
	}
	return ""
}

// mediaThumbnail is the first media:thumbnail URL of an item, directly or
// in a media:group or media:content.
func mediaThumbnail(exts ext.Extensions) string {
	media := exts["media"]
	if media == nil {
		return ""
	}
	var find func(es map[string][]ext.Extension) string
	find = func(es map[string][]ext.Extension) string {
		for _, t := range es["thumbnail"] {
			if u := t.Attrs["url"]; u != "" {
				return u
			}
		}
		for _, name := range []string{"group", "content"} {
			for _, g := range es[name] {
				if u := find(g.Children); u != "" {
					return u
				}
			}
		}
		return ""
	}
	return find(media)
}

// firstImg is the src of the first <img> in sanitized HTML (whose
// attributes are always double-quoted, see absolutize) that is not a
// tracking pixel (width or height 1 or 0).
func firstImg(s string) string {
	for {
		i := strings.Index(s, "<img ")
		if i < 0 {
			return ""
		}
		tag := s[i:]
		if end := strings.IndexByte(tag, '>'); end >= 0 {
			tag = tag[:end]
		}
		s = s[i+len("<img "):]
		if src := attrValue(tag, "src"); src != "" && !tiny(attrValue(tag, "width")) && !tiny(attrValue(tag, "height")) {
			return src
		}
	}
}

func attrValue(tag, name string) string {
	j := strings.Index(tag, " "+name+`="`)
	if j < 0 {
		return ""
	}
	v := tag[j+len(name)+3:]
	if k := strings.IndexByte(v, '"'); k >= 0 {
		return html.UnescapeString(v[:k])
	}
	return ""
}

func tiny(dim string) bool { return dim == "0" || dim == "1" }
