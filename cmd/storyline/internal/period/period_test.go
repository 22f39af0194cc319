package period

import (
	"strconv"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"90m": 90 * time.Minute, "36h": 36 * time.Hour, "3d": 3 * day, "2w": 14 * day,
		"1d12h": 36 * time.Hour, "0d": 0, "1w30m": 7*day + 30*time.Minute, "-2h": -2 * time.Hour,
	} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "3x", "3dd", "1d-2h", "-1d", "999999999999d", "20000w", "3 d", "100000d2000000h"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, got)
		}
	}
}

func TestFormat(t *testing.T) {
	day := 24 * time.Hour
	for d, want := range map[time.Duration]string{
		3 * day: "3d", 14 * day: "2w", 90 * time.Minute: "90m", 36 * time.Hour: "36h",
		time.Hour: "1h", 45 * time.Second: "45s", 1500 * time.Millisecond: "1.5s",
		// Beyond the days and weeks Parse takes, in hours.
		(maxDays + 1) * day: "2400024h", (maxDays/7 + 1) * 7 * day: "2400048h",
	} {
		got := Format(d)
		if got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
		if back, err := Parse(got); err != nil || back != d {
			t.Errorf("Parse(Format(%v)) = %v, %v", d, back, err)
		}
	}
}

// FuzzParsePeriod checks Parse against time.ParseDuration: a plain Go
// duration means what it means there; days and weeks add exactly, never
// wrapping past the largest duration; and the result, written by
// Duration.String, reads back the same.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"90m", "36h", "3d", "2w", "1d12h", "0d", "1w30m", "-2h", "1d-2h", "1.5h",
		"100000d", "14285w", "999999999999d", "3 d", "", "1d+2h", "0003d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		m := dayCount.FindStringSubmatch(s)
		if m == nil {
			want, werr := time.ParseDuration(s)
			if (err == nil) != (werr == nil) || d != want {
				t.Fatalf("Parse(%q) = %v, %v; time.ParseDuration gives %v, %v", s, d, err, want, werr)
			}
		}
		if err != nil {
			return
		}
		if m != nil {
			n, _ := strconv.Atoi(m[1])
			days := time.Duration(n) * 24 * time.Hour
			if m[2] == "w" {
				days *= 7
			}
			var rest time.Duration
			if m[3] != "" {
				rest, err = time.ParseDuration(m[3])
				if err != nil {
					t.Fatalf("Parse(%q) = %v, but %q is no duration: %v", s, d, m[3], err)
				}
			}
			// d-days == rest holds even when the sum wrapped around;
			// with rest >= 0 the sum cannot be below days unless it did.
			if d-days != rest || rest >= 0 && d < days || rest < 0 && days > 0 {
				t.Fatalf("Parse(%q) = %v, want %v + %v", s, d, days, rest)
			}
		}
		if back, err := Parse(d.String()); err != nil || back != d {
			t.Fatalf("Parse(%q) = %v, which reads back as %v, %v", s, d, back, err)
		}
	})
}
