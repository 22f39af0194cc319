package main

import (
	"bytes"
	"io"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// table lays out tab-separated cells in aligned columns as text/tabwriter
// does with the settings of every CLI table (padding 2, spaces), with one
// difference: a cell's width is what a terminal shows, not its number of
// characters. Chinese, Japanese and Korean characters take two columns
// and combining marks none, so a title in those scripts no longer pushes
// the columns after it out of line.
type table struct {
	w   io.Writer
	buf bytes.Buffer
}

func newTable(w io.Writer) *table { return &table{w: w} }

func (t *table) Write(p []byte) (int, error) { return t.buf.Write(p) }

// tablePadding is the space between two columns.
const tablePadding = 2

// Flush writes the lines written so far, aligned.
func (t *table) Flush() error {
	text := t.buf.String()
	t.buf.Reset()
	if text == "" {
		return nil
	}
	trailingNewline := strings.HasSuffix(text, "\n")
	text = strings.TrimSuffix(text, "\n")
	var lines [][]string
	for _, l := range strings.Split(text, "\n") {
		lines = append(lines, strings.Split(l, "\t"))
	}
	if last := lines[len(lines)-1]; !trailingNewline && len(last) > 1 && last[len(last)-1] == "" {
		// Text not ended by a newline ends in its last cell: a tab
		// there ends a cell, as tabwriter takes it, rather than opening
		// an empty one.
		lines[len(lines)-1] = last[:len(last)-1]
	}
	var out strings.Builder
	layout(&out, lines, 0, nil)
	s := out.String()
	if !trailingNewline {
		s = strings.TrimSuffix(s, "\n")
	}
	_, err := io.WriteString(t.w, s)
	return err
}

// layout writes lines whose first len(widths) columns have the given
// widths. As tabwriter does, column col is aligned over each run of
// consecutive lines that have a cell ending in a tab there; a line
// without one ends the run.
func layout(out *strings.Builder, lines [][]string, col int, widths []int) {
	for i := 0; i < len(lines); {
		if len(lines[i])-1 <= col {
			writeLine(out, lines[i], widths)
			i++
			continue
		}
		j := i
		w := 0
		for j < len(lines) && len(lines[j])-1 > col {
			w = max(w, displayWidth(lines[j][col]))
			j++
		}
		layout(out, lines[i:j], col+1, append(widths, w+tablePadding))
		i = j
	}
}

// writeLine writes one line's cells, each padded to its column's width but
// the last.
func writeLine(out *strings.Builder, cells []string, widths []int) {
	for k, c := range cells {
		out.WriteString(c)
		if k < len(cells)-1 {
			out.WriteString(strings.Repeat(" ", max(widths[k]-displayWidth(c), 0)))
		}
	}
	out.WriteByte('\n')
}

// displayWidth is how many terminal columns s takes: two for East Asian
// wide and full-width characters, none for combining marks and format
// characters, one for the others.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// runeWidth is displayWidth of one character.
func runeWidth(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r < 0x1100:
		return 1
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}
