package feeds

import (
	"net/url"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// policy is built once: constructing a bluemonday policy compiles regexps
// and is far more expensive than sanitizing one entry. A built policy is
// safe for concurrent use.
var policy = sync.OnceValue(func() *bluemonday.Policy {
	// UGC: no script, style, iframe, form, event handler or javascript: URL.
	p := bluemonday.UGCPolicy()
	// Keep words apart when a disallowed block element is dropped.
	p.AddSpaceWhenStrippingTag(true)
	return p
})

// SanitizeHTML makes feed HTML safe to embed in our pages and output feeds,
// and resolves relative href and src attributes against baseURL (when it is
// absolute) so the HTML still works away from the publisher's site. It is
// safe for concurrent use.
func SanitizeHTML(s, baseURL string) string {
	base, err := url.Parse(baseURL)
	if err != nil || !base.IsAbs() {
		base = nil
	}
	return sanitizeWithBase(s, base)
}

func sanitizeWithBase(s string, base *url.URL) string {
	if !strings.ContainsAny(s, "<>&'\"") {
		return strings.TrimSpace(s)
	}
	out := strings.TrimSpace(policy().Sanitize(s))
	if base != nil && base.IsAbs() {
		out = absolutize(out, base)
	}
	return out
}

// absolutize rewrites relative href="…" and src="…" in bluemonday's output.
// That output is regular (double-quoted attributes, `"` escaped in text and
// values), so a plain scan is exact and much cheaper than a second parse.
func absolutize(s string, base *url.URL) string {
	var b strings.Builder
	last, pos := 0, 0
	for {
		i, n := nextURLAttr(s[pos:])
		if i < 0 {
			break
		}
		vs := pos + i + n
		end := strings.IndexByte(s[vs:], '"')
		if end < 0 {
			break
		}
		ve := vs + end
		pos = ve
		val := html.UnescapeString(s[vs:ve])
		if hasScheme(val) {
			continue
		}
		ref, err := url.Parse(val)
		if err != nil {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s) + 64)
		}
		b.WriteString(s[last:vs])
		b.WriteString(html.EscapeString(base.ResolveReference(ref).String()))
		last = ve
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// nextURLAttr finds the earliest ` href="` or ` src="` in s, returning its
// index and length.
func nextURLAttr(s string) (int, int) {
	h := strings.Index(s, ` href="`)
	r := strings.Index(s, ` src="`)
	switch {
	case h < 0 && r < 0:
		return -1, 0
	case r < 0 || (h >= 0 && h < r):
		return h, len(` href="`)
	default:
		return r, len(` src="`)
	}
}

// hasScheme reports an absolute URL ("https:", "mailto:"), as opposed to a
// path, a query or a fragment that needs the base.
func hasScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			return i > 0
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return false
}

// PlainText turns an HTML fragment into the text a reader would see: tags
// stripped, script and style contents dropped, entities decoded, whitespace
// collapsed to single spaces, and block boundaries turned into spaces so
// that "<p>end</p><p>start" does not become "endstart". Clustering and the
// serve layer both read text through this one function. Safe for concurrent
// use.
func PlainText(s string) string {
	if strings.IndexByte(s, '<') < 0 && strings.IndexByte(s, '&') < 0 {
		return collapseSpace(s)
	}
	return plainText(s, true)
}

// maxMarkupPasses bounds StripMarkup's work on nested tricks such as
// "<<b>script>": each pass removes at least one tag, and real titles need
// one.
const maxMarkupPasses = 4

// StripMarkup removes from plain text whatever a browser would parse as
// HTML markup (tags, comments, and the contents of script and style
// elements) without decoding entities, as the text is decoded already.
// Titles need it: a title entity-encoded at the source ("&lt;script&gt;",
// possibly twice) decodes to literal markup, and many readers render
// titles as HTML. The words between tags stay, so "<b>Big</b> news" is
// "Big news"; a title that names a tag ("a bug in <iframe>") loses the tag,
// the price of never handing a reader markup. A "<" not followed by a
// letter, "/", "!" or "?" ("1 < 2", "<3") is text and stays. Safe for
// concurrent use.
func StripMarkup(s string) string {
	for range maxMarkupPasses {
		if !hasMarkup(s) {
			return s
		}
		s = plainText(s, false)
	}
	if !hasMarkup(s) {
		return s
	}
	// Still markup after several passes: a crafted title, not news.
	// Without any "<" nothing can open a tag; the rest stays as text.
	return strings.ReplaceAll(s, "<", "")
}

// hasMarkup reports a "<" that an HTML parser would take as the start of a
// tag, comment or processing instruction.
func hasMarkup(s string) bool {
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return false
		}
		s = s[i+1:]
		if opensMarkup(s) {
			return true
		}
	}
}

// opensMarkup reports whether the text after a "<" makes it markup.
func opensMarkup(rest string) bool {
	if rest == "" {
		return false
	}
	switch c := rest[0]; {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '/', c == '!', c == '?':
		return true
	}
	return false
}

// plainText is PlainText's tokenizing path; decode false keeps text as
// written (entities and all), for text that is decoded already.
func plainText(s string, decode bool) string {
	var w spaceWriter
	w.b.Grow(len(s))
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	// The text inside a skipped element is kept aside until the element
	// closes: "a bug in <iframe> sandboxing" is a title that names a tag,
	// not markup, and an element that never closes must not swallow the
	// rest of the text.
	var held [][]byte
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if skip > 0 {
				for _, t := range held {
					w.write(t)
				}
			}
			return w.b.String()
		case html.TextToken:
			text := z.Raw()
			if decode {
				text = z.Text()
			}
			if skip == 0 {
				w.write(text)
			} else {
				held = append(held, append([]byte(nil), text...))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if skippedContent(a) {
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
					if skip == 0 {
						held = held[:0]
					}
				}
				continue
			}
			if !inlineElement(a) {
				w.space = true
			}
		}
	}
}

// skippedContent lists elements whose content is not readable text.
func skippedContent(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Iframe,
		atom.Object, atom.Svg, atom.Math, atom.Head, atom.Select:
		return true
	}
	return false
}

// inlineElement lists elements that sit inside a word as often as between
// words; every other tag separates words.
func inlineElement(a atom.Atom) bool {
	switch a {
	case atom.A, atom.Abbr, atom.Acronym, atom.B, atom.Bdi, atom.Bdo, atom.Big,
		atom.Cite, atom.Code, atom.Data, atom.Del, atom.Dfn, atom.Em, atom.Font,
		atom.I, atom.Ins, atom.Kbd, atom.Mark, atom.Q, atom.S, atom.Samp,
		atom.Small, atom.Span, atom.Strike, atom.Strong, atom.Sub, atom.Sup,
		atom.Time, atom.Tt, atom.U, atom.Var, atom.Wbr:
		return true
	}
	return false
}

func collapseSpace(s string) string {
	var w spaceWriter
	w.b.Grow(len(s))
	w.write([]byte(s))
	out := w.b.String()
	if out == s {
		return s // keep the original and let the copy be collected
	}
	return out
}

// spaceWriter appends text, turning every run of white space (including
// no-break and other Unicode spaces) into one ASCII space, and never writing
// a leading or trailing one.
type spaceWriter struct {
	b     strings.Builder
	space bool
}

func (w *spaceWriter) write(p []byte) {
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			i++
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
				w.space = true
				continue
			}
			if c < 0x20 || c == 0x7f {
				continue // control characters are never text
			}
			w.flushSpace()
			w.b.WriteByte(c)
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if unicode.IsSpace(r) {
			w.space = true
		} else if r == '\u200b' || r == '\ufeff' || r == utf8.RuneError && n == 1 {
			// zero-width space, stray BOM, invalid byte: drop
		} else {
			w.flushSpace()
			w.b.Write(p[i : i+n])
		}
		i += n
	}
}

func (w *spaceWriter) flushSpace() {
	if w.space && w.b.Len() > 0 {
		w.b.WriteByte(' ')
	}
	w.space = false
}
