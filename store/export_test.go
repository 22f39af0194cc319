package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestImportedMeta(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	src := Meta{Docs: 40, LastTopicID: 12, Clock: t0.Add(-time.Hour), Generation: 9, Analyzer: 3,
		Version: DataVersion{Version: 70, Changed: t0.Add(-time.Minute)}}
	for _, tc := range []struct {
		name     string
		dst      Meta
		now      time.Time
		gen, ver int64
		changed  time.Time
	}{
		{"new database", Meta{}, t0, 9, 71, t0},
		// A clusterer or a cache that knew the emptied database must see
		// both move.
		{"emptied database ahead of the source", Meta{Generation: 30, Version: DataVersion{Version: 500}}, t0, 31, 501, t0},
		{"clock behind the source's last change", Meta{}, t0.Add(-time.Hour), 9, 71, src.Version.Changed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ImportedMeta(src, tc.dst, tc.now)
			if m.Docs != src.Docs || m.LastTopicID != src.LastTopicID || !m.Clock.Equal(src.Clock) || m.Analyzer != src.Analyzer ||
				m.Generation != tc.gen || m.Version.Version != tc.ver || !m.Version.Changed.Equal(tc.changed) {
				t.Errorf("ImportedMeta = %+v; want the source's counters, generation %d, version %d changed %v", m, tc.gen, tc.ver, tc.changed)
			}
		})
	}
}

func TestCheckCounts(t *testing.T) {
	if err := CheckEmpty(Counts{}); err != nil {
		t.Errorf("CheckEmpty of nothing: %v", err)
	}
	err := CheckEmpty(Counts{Feeds: 2, Terms: 5})
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "2 feeds, 5 terms") {
		t.Errorf("CheckEmpty = %v", err)
	}
	c := Counts{Feeds: 1, Entries: 2, Pending: 3, Topics: 4, Memberships: 5, Aliases: 6, Terms: 7}
	if err := CheckCopy(c, c); err != nil {
		t.Errorf("CheckCopy of equal counts: %v", err)
	}
	d := c
	d.Memberships--
	if err := CheckCopy(c, d); err == nil || !strings.Contains(err.Error(), "memberships: 5 in the source, 4 copied") {
		t.Errorf("CheckCopy = %v", err)
	}
}
