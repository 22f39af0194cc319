package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// coverageChart draws a storyline's stories over time as inline SVG, drawn
// by the server (the page runs no script): one bar per hour when the
// storyline spans up to three days, else per day, so a reader sees when
// the story broke and whether it is still growing. Each bar's title gives
// its count for screen readers and hover; the chart as a whole is
// labelled. Hours and days are those of loc's clock: each time is turned
// into its wall-clock reading there (as if in UTC), so that a day's bar
// starts at local midnight and a bar's label is the local hour.
func coverageChart(times []time.Time, loc *time.Location) template.HTML {
	if len(times) == 0 {
		return ""
	}
	wall := make([]time.Time, len(times))
	for i, t := range times {
		t = t.In(loc)
		wall[i] = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	times = wall
	first, last := times[0], times[0]
	for _, t := range times {
		if t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	unit, name, layout := time.Hour, "hour", "Mon 2 Jan 15:00"
	if last.Sub(first) > 72*time.Hour {
		unit, name, layout = 24*time.Hour, "day", "Mon 2 Jan"
	}
	start := first.UTC().Truncate(unit)
	n := int(last.UTC().Sub(start)/unit) + 1
	const maxBars = 120
	if n > maxBars {
		// A storyline of months: weeks, so the bars stay wide enough to see.
		unit, name, layout = 7*24*time.Hour, "week", "week of Mon 2 Jan 2006"
		start = first.UTC().Truncate(24 * time.Hour)
		n = int(last.UTC().Sub(start)/unit) + 1
	}
	counts := make([]int, n)
	peak := 0
	for _, t := range times {
		i := int(t.UTC().Sub(start) / unit)
		counts[i]++
		peak = max(peak, counts[i])
	}
	const width, height, top = 600.0, 80.0, 4.0
	bar := width / float64(n)
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><svg viewBox="0 0 %.0f %.0f" width="600" height="80" role="img" aria-labelledby="chart-title">`, width, height+14)
	fmt.Fprintf(&b, `<title id="chart-title">Stories per %s, %s to %s, at most %d in one %s</title>`,
		name, start.Format(layout), start.Add(time.Duration(n-1)*unit).Format(layout), peak, name)
	for i, c := range counts {
		if c == 0 {
			continue
		}
		h := (height - top) * float64(c) / float64(peak)
		fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f"><title>%s: %d</title></rect>`,
			float64(i)*bar+bar*0.1, height-h, bar*0.8, h, start.Add(time.Duration(i)*unit).Format(layout), c)
	}
	fmt.Fprintf(&b, `<line x1="0" y1="%.0f" x2="%.0f" y2="%.0f"></line>`, height, width, height)
	fmt.Fprintf(&b, `<text x="0" y="%.0f">%s</text><text x="%.0f" y="%.0f" text-anchor="end">%s</text>`,
		height+12, start.Format(layout), width, height+12, start.Add(time.Duration(n-1)*unit).Format(layout))
	fmt.Fprintf(&b, `</svg><figcaption>Stories per %s</figcaption></figure>`, name)
	return template.HTML(b.String())
}
