package web

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the machine has

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// Pages and the storylines feed's text show times in the server's zone,
// with its abbreviation, and machine-readable times with its offset.
func TestPagesInTimeZone(t *testing.T) {
	f := newFixture(t)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	f.srv = New(Options{Store: f.db, BaseURL: "https://storyline.example", Now: func() time.Time { return t0 },
		Location: tokyo, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	es, err := f.db.Entries(context.Background(), store.EntryQuery{Limit: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("entries: %v, %v", es, err)
	}
	e := es[0]
	page := f.get(t, "/topics/"+strconv.FormatInt(e.TopicID, 10)).Body.String()
	local := e.Entry.Published.In(tokyo)
	for _, want := range []string{
		local.Format("Mon 2 Jan 15:04") + " JST",
		// html/template writes the offset's + as &#43; in an attribute.
		`datetime="` + strings.ReplaceAll(local.Format(time.RFC3339), "+", "&#43;") + `"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the storyline's page lacks %q", want)
		}
	}
	if strings.Contains(page, " UTC") || strings.Contains(page, `Z"`) {
		t.Errorf("the storyline's page still shows UTC times:\n%s", page)
	}
	digest := f.get(t, "/topics.atom").Body.String()
	if !strings.Contains(digest, local.Format("2 Jan 15:04")+" JST") {
		t.Errorf("the storylines feed's text lacks the story's time in Tokyo (%s):\n%s", local.Format("2 Jan 15:04 MST"), digest)
	}
}

// The coverage chart's days are the zone's: a story late in the evening in
// New York is on that day's bar, though it is past midnight in UTC.
func TestChartDaysInTimeZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	times := []time.Time{
		time.Date(2026, 11, 20, 23, 30, 0, 0, ny), // 04:30 UTC on the 21st
		time.Date(2026, 11, 21, 10, 0, 0, 0, ny),
		time.Date(2026, 11, 24, 9, 0, 0, 0, ny),
	}
	chart := string(coverageChart(times, ny))
	for _, want := range []string{"Fri 20 Nov: 1", "Sat 21 Nov: 1", "Tue 24 Nov: 1", "Fri 20 Nov to Tue 24 Nov"} {
		if !strings.Contains(chart, want) {
			t.Errorf("chart in New York lacks %q:\n%s", want, chart)
		}
	}
	utc := string(coverageChart(times, time.UTC))
	if !strings.Contains(utc, "Sat 21 Nov: 2") {
		t.Errorf("chart in UTC: want both stories of the 21st on one bar:\n%s", utc)
	}
	// Hours are the zone's too.
	hours := string(coverageChart(times[:2], ny))
	if !strings.Contains(hours, "Fri 20 Nov 23:00: 1") {
		t.Errorf("hourly chart in New York lacks the 23:00 bar:\n%s", hours)
	}
}

// A story in another language than the pages' English is marked with its
// tag, so that a browser draws Chinese in Chinese glyphs and Japanese in
// Japanese ones; a storyline's name takes the language most of its stories
// share.
func TestStoryLanguageOnPages(t *testing.T) {
	zh := toPageStory(story{StoredEntry: store.StoredEntry{FeedTitle: "华夏日报",
		Entry: feeds.Entry{Title: "国际会议在北京举行", Link: "https://hx.example/1", Language: "zh-cn", Published: t0}}})
	ja := toPageStory(story{StoredEntry: store.StoredEntry{FeedTitle: "東京ニュース",
		Entry: feeds.Entry{Title: "東京で地震", Language: "ja", Published: t0}}})
	en := toPageStory(story{StoredEntry: store.StoredEntry{FeedTitle: "Courier",
		Entry: feeds.Entry{Title: "Storm", Link: "https://c.example/1", Language: "en-GB", Published: t0}}})
	var b strings.Builder
	for _, ps := range []pageStory{zh, ja, en} {
		if err := pagesIn(time.UTC)[frontTemplate].ExecuteTemplate(&b, "story", ps); err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n")
	}
	for _, want := range []string{`<a href="https://hx.example/1" lang="zh-CN">国际会议在北京举行</a>`, `<span lang="ja">東京で地震</span>`,
		`<a href="https://c.example/1">Storm</a>`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("stories lack %s:\n%s", want, b.String())
		}
	}
	for _, tc := range []struct {
		stories []pageStory
		want    string
	}{
		{[]pageStory{zh, zh, ja}, "zh-CN"},
		{[]pageStory{zh, ja}, ""},
		{[]pageStory{en, en, zh}, ""},
	} {
		if got := commonLang(tc.stories); got != tc.want {
			t.Errorf("commonLang = %q, want %q", got, tc.want)
		}
	}
}
