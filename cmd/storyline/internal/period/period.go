// Package period parses look-back periods ("36h", "3d", "2w"), as taken by
// the CLI's --since and the feeds' ?since=. time.ParseDuration stops at
// hours, while news is browsed by the day.
package period

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"
)

var dayCount = regexp.MustCompile(`^(\d+)([dw])(.*)$`)

// maxDays keeps a period far from overflowing time.Duration (about 292
// years).
const maxDays = 100000

// Parse reads a Go duration ("90m", "36h"), optionally led by a number of
// days or weeks ("3d", "2w", "1d12h"). Negative periods are refused only
// when they mix units ("1d-2h"); callers decide whether a plain negative
// duration is acceptable.
func Parse(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a period such as 90m, 24h, 3d or 2w", s)
	var d time.Duration
	if m := dayCount.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > maxDays {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
		if m[2] == "w" {
			if n > maxDays/7 {
				return 0, bad
			}
			d *= 7
		}
		if s = m[3]; s == "" {
			return d, nil
		}
	}
	rest, err := time.ParseDuration(s)
	// d + rest must not wrap around: "100000d2000000h" is too long, not
	// negative.
	if err != nil || rest < 0 && d > 0 || rest > math.MaxInt64-d {
		return 0, bad
	}
	return d + rest, nil
}

// Format writes a positive period in the largest unit that divides it
// ("3d" for 72h, "2w", "90m", "36h"), else as Duration.String does: the
// form a person types, which Parse reads back.
func Format(d time.Duration) string {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
		most   int64 // the most of them Parse reads
	}{{"w", 7 * 24 * time.Hour, maxDays / 7}, {"d", 24 * time.Hour, maxDays}, {"h", time.Hour, math.MaxInt64},
		{"m", time.Minute, math.MaxInt64}, {"s", time.Second, math.MaxInt64}} {
		if n := int64(d / u.unit); d > 0 && d%u.unit == 0 && n <= u.most {
			return strconv.FormatInt(n, 10) + u.suffix
		}
	}
	return d.String()
}
