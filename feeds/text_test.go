package feeds

import (
	"strings"
	"sync"
	"testing"
)

func TestPlainText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "  Hello,\n\t world  ", "Hello, world"},
		{"entities", "Tom &amp; Jerry &lt;3 &eacute;t&eacute; &#8220;quoted&#8221;", "Tom & Jerry <3 été “quoted”"},
		{"nbsp collapses", "a&nbsp;&nbsp;b\u00a0c", "a b c"},
		{"blocks separate words", "<p>end</p><p>start</p><ul><li>one</li><li>two</li></ul>line<br>break", "end start one two line break"},
		{"inline keeps words", "<b>Hel</b>lo <em>wor</em><span>ld</span>", "Hello world"},
		{"script and style dropped", "a<script>var x = '<p>';</script>b<style>p{}</style>c", "abc"},
		{"comment dropped", "a<!-- hidden -->b", "ab"},
		{"unclosed tag", "text <b>bold", "text bold"},
		{"lone less-than", "1 < 2 and 3 > 2", "1 < 2 and 3 > 2"},
		{"headings", "<h2>Title</h2>Body", "Title Body"},
		{"images", "a<img src=x.jpg alt=pic>b", "a b"},
		{"control characters", "a\x00b\x07c", "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := PlainText(tc.in); got != tc.want {
				t.Errorf("PlainText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStripMarkup(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Harbour bridge closed", "Harbour bridge closed"},
		{"script", "<script>alert(1)</script> Breaking", "Breaking"},
		{"inline tags", "<b>Big</b> news", "Big news"},
		{"entities stay as written", "AT&amp;T <i>up</i>", "AT&amp;T up"},
		{"comparisons stay", "1 < 2 and 3 > 2, <3", "1 < 2 and 3 > 2, <3"},
		{"comment", "a <!-- b --> c", "a c"},
		{"end tag alone", "a </div> b", "a b"},
		{"nested trick", "<<b>script>alert(1)<</b>/script> Nested", "Nested"},
		{"unclosed script keeps its words", "<script>the rest", "the rest"},
		{"deep nesting falls back", "<<<<<b>b>b>b>b>x", "b>x"}, // the last "<" dropped
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := StripMarkup(tc.in)
			if got != tc.want {
				t.Errorf("StripMarkup(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if hasMarkup(got) {
				t.Errorf("StripMarkup(%q) = %q still has markup", tc.in, got)
			}
		})
	}
}

// FuzzStripMarkup checks the promise titles rely on: nothing a browser
// would parse as a tag survives, whatever the input.
func FuzzStripMarkup(f *testing.F) {
	for _, s := range []string{"<script>x</script>y", "<<b>script>", "a < b", "<!--", "</3", "<?x?>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := StripMarkup(s)
		if hasMarkup(got) {
			t.Errorf("StripMarkup(%q) = %q still has markup", s, got)
		}
		if len(got) > len(s) {
			t.Errorf("StripMarkup(%q) = %q is longer", s, got)
		}
	})
}

func TestSanitizeHTML(t *testing.T) {
	const base = "https://site.example/news/story.html"
	tests := []struct {
		name, in string
		want     string   // exact, when set
		contains []string // substrings that must be present
		absent   []string // substrings that must be gone (case-insensitive)
	}{
		{name: "plain text untouched", in: "just words", want: "just words"},
		{name: "plain text escaped", in: `Tom & "Jerry"`, want: "Tom &amp; &#34;Jerry&#34;"},
		{name: "script", in: `<p>ok</p><script>alert(1)</script>`, want: "<p>ok</p>", absent: []string{"alert"}},
		{name: "event handler", in: `<a href="https://x.example/" onclick="evil()">x</a>`, contains: []string{`href="https://x.example/"`}, absent: []string{"onclick", "evil"}},
		{name: "javascript href", in: `<a href="javascript:alert(1)">x</a>`, absent: []string{"javascript", "href"}},
		{name: "javascript href with entities", in: `<a href="jav&#x09;ascript:alert(1)">x</a>`, absent: []string{"javascript", "alert"}},
		{name: "iframe", in: `<iframe src="https://evil.example/"></iframe><p>x</p>`, absent: []string{"iframe", "evil"}},
		{name: "style element and attribute", in: `<style>body{}</style><p style="color:red">x</p>`, want: "<p>x</p>"},
		{name: "relative href and src resolved", in: `<a href="/a?b=1&amp;c=2">x</a><img src="img.png">`,
			contains: []string{`href="https://site.example/a?b=1&amp;c=2"`, `src="https://site.example/news/img.png"`}},
		{name: "protocol-relative resolved", in: `<img src="//cdn.example/i.png">`, contains: []string{`src="https://cdn.example/i.png"`}},
		{name: "absolute left alone", in: `<a href="mailto:desk@site.example">mail</a>`, contains: []string{`href="mailto:desk@site.example"`}},
		{name: "attribute text in body not rewritten", in: `<p>write href="x" here</p>`, contains: []string{"href=&#34;x&#34;"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SanitizeHTML(tc.in, base)
			if tc.want != "" && got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for _, s := range tc.contains {
				if !strings.Contains(got, s) {
					t.Errorf("%q does not contain %q", got, s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(strings.ToLower(got), s) {
					t.Errorf("%q still contains %q", got, s)
				}
			}
		})
	}
}

func TestSanitizeConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if got := SanitizeHTML(`<p onclick="x">a</p>`, ""); got != "<p>a</p>" {
					t.Errorf("got %q", got)
				}
				PlainText("<p>a</p><p>b</p>")
			}
		})
	}
	wg.Wait()
}

func TestCanonicalLink(t *testing.T) {
	tests := []struct{ name, link, base, want string }{
		{"tracking removed, order kept", "https://a.example/p?z=1&utm_source=x&b=2&UTM_Medium=y&fbclid=f&a=3&gclid=g#frag", "", "https://a.example/p?z=1&b=2&a=3"},
		{"only tracking", "https://a.example/p?utm_source=x", "", "https://a.example/p"},
		{"relative", "../p/1", "https://a.example/x/y/feed", "https://a.example/x/p/1"},
		{"host lowercased", "https://A.Example/P", "", "https://a.example/P"},
		{"not http", "javascript:alert(1)", "https://a.example/", ""},
		{"ftp", "ftp://a.example/f", "", ""},
		{"empty", "", "https://a.example/", ""},
		{"whitespace", "  https://a.example/p  ", "", "https://a.example/p"},
		{"similar names kept", "https://a.example/p?utm=1&xfbclid=2", "", "https://a.example/p?utm=1&xfbclid=2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CanonicalLink(tc.link, tc.base); got != tc.want {
				t.Errorf("CanonicalLink(%q, %q) = %q, want %q", tc.link, tc.base, got, tc.want)
			}
		})
	}
}

func TestNormalizeLang(t *testing.T) {
	for in, want := range map[string]string{"en-us": "en-US", "EN": "en", "de_de": "de-DE", "zh-hant-tw": "zh-Hant-TW", " fr ": "fr", "": ""} {
		if got := normalizeLang(in); got != want {
			t.Errorf("normalizeLang(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkPlainText(b *testing.B) {
	body := string(readFixture(b, "bench50.xml"))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		PlainText(body)
	}
}
