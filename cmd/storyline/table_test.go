package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// On text of one column per character, table lays out exactly as
// text/tabwriter does with the CLI's settings, including lines of fewer
// cells that break a column's run.
func TestTableLikeTabwriter(t *testing.T) {
	inputs := []string{
		"ID  \tURL\tTITLE\n1\thttps://a.example/feed\tA\n22\thttps://bb.example/\tBee\n",
		"2026-12-07 10:00\tLocal Gazette\tHarbour bridge closed\n\t\thttps://gazette.example/bridge\n2026-12-07 11:00\tCourier\tStorm\n\t\thttps://x.example/s\n",
		"a\tb\nno tabs here\nccc\td\te\n",
		"",
		"x\t\ty\n\t\t\n",
		"trailing\tno newline",
		"x\ty\nab\t",
		"\t",
	}
	for _, in := range inputs {
		if got, want := bothLayouts(in); got != want {
			t.Errorf("input %q:\ngot\n%s\nwant (tabwriter)\n%s", in, got, want)
		}
	}
}

// bothLayouts lays in out with table and with text/tabwriter at the CLI's
// settings.
func bothLayouts(in string) (ours, tabwriters string) {
	var want, got bytes.Buffer
	tw := tabwriter.NewWriter(&want, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, in)
	tw.Flush()
	tb := newTable(&got)
	fmt.Fprint(tb, in)
	tb.Flush()
	return got.String(), want.String()
}

// Wide characters take two columns: the column after a Japanese title
// starts where it does after an English one, on screen.
func TestTableWideCharacters(t *testing.T) {
	var b bytes.Buffer
	tb := newTable(&b)
	fmt.Fprint(tb, "東京で地震\tNHK\nStorm\tBBC\nｶﾀｶﾅ\tx\nCafé\u0301\ty\n")
	tb.Flush()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{"東京で地震  NHK", "Storm       BBC", "ｶﾀｶﾅ        x", "Café\u0301        y"}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
}

func TestTruncateByWidth(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"Harbour bridge closed", 30, "Harbour bridge closed"},
		{"Harbour bridge closed", 10, "Harbour b…"},
		{"国际会议在北京举行", 18, "国际会议在北京举行"},
		{"国际会议在北京举行", 10, "国际会议…"},
		{"国际会议在北京举行", 9, "国际会议…"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// The CLI's tables list an article once, naming each outlet that carried
// it once, in order; entries without a link are stories of their own.
func TestFoldCopies(t *testing.T) {
	entry := func(id int64, outlet, link string) store.StoredEntry {
		return store.StoredEntry{ID: id, FeedTitle: outlet, Entry: feeds.Entry{Link: link}}
	}
	got := foldCopies([]store.StoredEntry{
		entry(1, "Gazette", "https://g.example/a"),
		entry(2, "Courier", ""),
		entry(3, "Gazette", "https://g.example/a"),
		entry(4, "Herald", "https://g.example/a"),
		entry(5, "Courier", ""),
		entry(6, "Courier", "https://c.example/b"),
	})
	var rows []string
	for _, s := range got {
		rows = append(rows, fmt.Sprintf("%d %s", s.ID, s.outlets()))
	}
	want := []string{"1 Gazette, Herald", "2 Courier", "5 Courier", "6 Courier"}
	if !slices.Equal(rows, want) {
		t.Errorf("folded %q, want %q", rows, want)
	}
}

// The same on random text of cells, tabs and newlines.
func TestTableLikeTabwriterRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab c\t\t\n"
	for range 5000 {
		b := make([]byte, rng.IntN(30))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		in := string(b)
		if got, want := bothLayouts(in); got != want {
			t.Fatalf("input %q: got %q, tabwriter %q", in, got, want)
		}
	}
}
