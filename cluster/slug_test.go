package cluster

import (
	"strings"
	"testing"
)

func TestLinkSlug(t *testing.T) {
	tests := []struct{ link, want string }{
		{"", ""},
		{"not a url %zz", ""},
		{"https://example.com/", ""},
		{"https://example.com/news/12345", ""},
		{"https://example.com/?p=123&utm_source=rss", ""},
		// Section names and dates around the slug are not words of it.
		{"http://nypost.com/2014/03/11/the-cw-unveils-the-flashs-super-suit/", "the cw unveils the flashs super suit"},
		{"http://www.latimes.com/business/money/la-fi-mo-federal-reserve-plosser-20140310,0,1312750.story?track=rss", "la fi mo federal reserve plosser"},
		// Ids mixing letters and digits are dropped; a file extension too.
		{"http://www.livemint.com/Politics/H2EvwJSK2VE6OF7iK1g3PP/Feds-Charles-Plosser-sees-high-bar.html", "feds charles plosser sees high bar"},
		{"https://example.com/world/Entertainment-briefs", ""},
		// Query and fragment carry tracking, not content.
		{"https://example.com/a/b?title=geneva-peace-talks-resume-today#top-of-the-page", ""},
		{"https://example.com/fr/politique/les-n%C3%A9gociations-de-gen%C3%A8ve-reprennent", "les négociations de genève reprennent"},
	}
	for _, tt := range tests {
		if got := linkSlug(tt.link); got != tt.want {
			t.Errorf("linkSlug(%q) = %q, want %q", tt.link, got, tt.want)
		}
	}
	long := "https://example.com/" + strings.Repeat("word-", 200) + "end"
	if got := linkSlug(long); len(got) > maxSlugLen || !strings.HasPrefix(got, "word word") || strings.HasSuffix(got, " ") {
		t.Errorf("long slug cut to %q", got)
	}
}

// A headline that says nothing about its story ("Michael Starr", a
// columnist's name) joins its topic through the words of its link.
func TestSlugJoinsGenericHeadline(t *testing.T) {
	stories := []Document{
		{ID: "1", Title: "The CW unveils the Flash's super suit", Link: "https://a.example/2014/03/11/cw-unveils-flash-super-suit"},
		{ID: "2", Title: "First look at Grant Gustin's Flash costume", Link: "https://b.example/tv/first-look-grant-gustin-flash-costume"},
		{ID: "3", Title: "Flash costume revealed: Grant Gustin suits up for the CW", Link: "https://c.example/flash-costume-revealed-gustin"},
		{ID: "4", Title: "Storm closes schools across the north", Link: "https://d.example/weather/storm-closes-schools-north"},
	}
	generic := Document{ID: "5", Title: "Michael Starr", Link: "https://e.example/2014/03/11/the-cw-unveils-the-flashs-super-suit/"}
	for _, withLink := range []bool{true, false} {
		c := New(DefaultConfig(), nil)
		var flash int64
		for _, d := range stories {
			a := c.Add(d)
			if d.ID == "1" {
				flash = a.TopicID
			}
		}
		d := generic
		if !withLink {
			d.Link = ""
		}
		a := c.Add(d)
		if joined := a.TopicID == flash; joined != withLink {
			t.Errorf("with link %v: joined the Flash topic = %v", withLink, joined)
		}
		tp, _ := c.Topic(flash)
		// Slugs are lower case by convention: they must not turn the
		// names in a label into lower case.
		named := false
		for _, w := range strings.Fields(tp.Label) {
			switch w {
			case "cw", "flash", "gustin", "grant":
				t.Errorf("label %q shows a name in lower case", tp.Label)
			case "CW", "Flash", "Gustin", "Grant":
				named = true
			}
		}
		if !named {
			t.Errorf("label %q names none of the Flash stories' names", tp.Label)
		}
	}
}
