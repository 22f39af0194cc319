package codec

import (
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// Column is a column of the feeds row and the value a poll sets it to
// (times in Unix milliseconds, as both backends store them).
type Column struct {
	Name  string
	Value any
}

// FeedColumns is what a poll r writes to the row of feed f, which ends it
// at url with secret (a permanent redirect may have moved it), and sets
// st.TitleChanged when the title readers see changed. Both backends
// write these, so that a poll leaves the same state on either.
func FeedColumns(f store.Feed, r store.PollResult, url, secret string, st *store.SaveStats) []Column {
	cols := []Column{{"url", url}, {"secret", secret}, {"last_polled_at", ms(r.PolledAt)}, {"last_status", r.Status},
		{"consecutive_errors", r.Errors},
		// The poller redacts its errors; this is the guard for any other
		// caller.
		{"last_error", feeds.Redact(r.Err, f.URL, f.Secret)},
		{"next_poll_at", ms(r.NextPollAt)}}
	if r.Err == "" && !r.NotModified {
		// A validator the server stops sending must be forgotten too.
		cols = append(cols, Column{"etag", r.ETag}, Column{"last_modified", r.LastModified}, Column{"ttl_ms", r.TTL.Milliseconds()})
		if r.Title != "" {
			cols = append(cols, Column{"title", r.Title})
			st.TitleChanged = st.TitleChanged || (f.UserTitle == "" && r.Title != f.Title)
		}
		if r.SiteLink != "" {
			cols = append(cols, Column{"site_link", r.SiteLink})
		}
		if r.Language != "" {
			cols = append(cols, Column{"language", r.Language})
		}
	}
	if r.DisableReason != "" {
		cols = append(cols, Column{"disabled", true}, Column{"disabled_reason", r.DisableReason})
	}
	return cols
}

// ms is t in Unix milliseconds, 0 for the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
