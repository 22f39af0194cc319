package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/codec"
)

// insertFeed begins the statements that subscribe a feed: the URL it was
// added with is its URL until a permanent redirect moves it, and it is due
// at once (next_poll_at = created_at).
const insertFeed = `INSERT INTO feeds (url, added_url, user_title, interval_ms, next_poll_at, created_at, secret) `

const feedColumns = `f.id, f.url, f.title, f.user_title, f.site_link, f.language, f.interval_ms, f.ttl_ms,
	f.etag, f.last_modified, f.last_polled_at, f.last_status, f.consecutive_errors, f.last_error,
	f.next_poll_at, f.disabled, f.disabled_reason, f.created_at, f.secret`

func scanFeed(sc interface{ Scan(...any) error }, extra ...any) (store.Feed, error) {
	var f store.Feed
	var interval, ttl, polled, next, created int64
	dest := []any{&f.ID, &f.URL, &f.Title, &f.UserTitle, &f.SiteLink, &f.Language, &interval, &ttl,
		&f.ETag, &f.LastModified, &polled, &f.LastStatus, &f.Errors, &f.LastError,
		&next, &f.Disabled, &f.DisabledReason, &created, &f.Secret}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return store.Feed{}, err
	}
	if f.UserTitle != "" {
		f.Title = f.UserTitle
	}
	f.Interval = time.Duration(interval) * time.Millisecond
	f.TTL = time.Duration(ttl) * time.Millisecond
	f.LastPolledAt, f.NextPollAt, f.CreatedAt = fromMS(polled), fromMS(next), fromMS(created)
	return f, nil
}

// AddFeed subscribes to a feed, due for polling at once. It returns
// ErrExists (with the existing feed) when the URL is already subscribed;
// credentials given with it replace the stored ones (a rotated token).
func (d *DB) AddFeed(ctx context.Context, nf store.NewFeed) (store.Feed, error) {
	if nf.URL == "" {
		return store.Feed{}, errors.New("store: add feed: empty URL")
	}
	var secret string
	nf.URL, secret = feeds.SplitSecrets(nf.URL)
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Feed{}, fmt.Errorf("store: add feed %s: %w", nf.URL, err)
	}
	defer tx.Rollback()
	// A feed that moved (permanent redirect) is still the one subscribed
	// with this URL.
	if f, err := findFeed(ctx, tx, "f.url = ? OR f.added_url = ? ORDER BY f.url = ? DESC LIMIT 1", nf.URL, nf.URL, nf.URL); err == nil {
		if secret != "" && secret != f.Secret {
			if _, err := tx.ExecContext(ctx, "UPDATE feeds SET secret = ? WHERE id = ?", secret, f.ID); err != nil {
				return store.Feed{}, fmt.Errorf("store: add feed %s: %w", nf.URL, err)
			}
			if err := tx.Commit(); err != nil {
				return store.Feed{}, fmt.Errorf("store: add feed %s: %w", nf.URL, err)
			}
			f.Secret = secret
		}
		return f, fmt.Errorf("%w: %s (id %d)", store.ErrExists, nf.URL, f.ID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Feed{}, fmt.Errorf("store: add feed %s: %w", nf.URL, err)
	}
	now := ms(d.Now())
	res, err := tx.ExecContext(ctx, insertFeed+`VALUES (?1, ?1, ?2, ?3, ?4, ?4, ?5)`,
		nf.URL, nf.Title, nf.Interval.Milliseconds(), now, secret)
	if err != nil {
		return store.Feed{}, fmt.Errorf("store: add feed %s: %w", nf.URL, err)
	}
	id, _ := res.LastInsertId()
	f, err := findFeed(ctx, tx, "f.id = ?", id)
	if err != nil {
		return store.Feed{}, fmt.Errorf("store: add feed %s: %w", nf.URL, err)
	}
	return f, tx.Commit()
}

// AddFeeds subscribes to a stream of feeds, as an OPML import lists them,
// in one transaction: either all are added or, when the stream fails (a
// document broken halfway), none. Feeds already subscribed (by their URL
// or the URL they were added with) are counted, not changed. Memory does
// not grow with the stream's length.
func (d *DB) AddFeeds(ctx context.Context, nfs iter.Seq2[store.NewFeed, error]) (added, existing int, err error) {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("store: add feeds: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, insertFeed+`SELECT ?1, ?1, ?2, ?3, ?4, ?4, ?5
		WHERE NOT EXISTS (SELECT 1 FROM feeds WHERE added_url = ?1) ON CONFLICT (url) DO NOTHING`)
	if err != nil {
		return 0, 0, fmt.Errorf("store: add feeds: %w", err)
	}
	defer ins.Close()
	now := ms(d.Now())
	for nf, err := range nfs {
		if err != nil {
			return 0, 0, err
		}
		public, secret := feeds.SplitSecrets(nf.URL)
		if public == "" {
			return 0, 0, errors.New("store: add feeds: empty URL")
		}
		res, err := ins.ExecContext(ctx, public, nf.Title, nf.Interval.Milliseconds(), now, secret)
		if err != nil {
			return 0, 0, fmt.Errorf("store: add feed %s: %w", public, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added++
		} else {
			existing++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("store: add feeds: %w", err)
	}
	return added, existing, nil
}

// SyncFeeds makes sure the given feeds are subscribed with the given titles
// and intervals, as a configuration file lists them: missing ones are added,
// changed options are updated, and nothing else is touched (a feed missing
// from the list stays subscribed). It reads first and writes only when
// something differs, so the many commands that start this way do not queue
// for the write lock. It returns how many feeds it added.
func (d *DB) SyncFeeds(ctx context.Context, nfs []store.NewFeed) (int, error) {
	if len(nfs) == 0 {
		return 0, nil
	}
	var have []codec.SubscribedFeed
	rows, err := d.db.QueryContext(ctx, "SELECT id, url, added_url, user_title, interval_ms, secret FROM feeds")
	if err != nil {
		return 0, fmt.Errorf("store: sync feeds: %w", err)
	}
	for rows.Next() {
		var f codec.SubscribedFeed
		if err := rows.Scan(&f.ID, &f.URL, &f.AddedURL, &f.Title, &f.IntervalMS, &f.Secret); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: sync feeds: %w", err)
		}
		have = append(have, f)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("store: sync feeds: %w", err)
	}
	add, update := codec.PlanFeedSync(have, nfs)
	if len(add) == 0 && len(update) == 0 {
		return 0, nil
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: sync feeds: %w", err)
	}
	defer tx.Rollback()
	now := ms(d.Now())
	for _, f := range add {
		if _, err := tx.ExecContext(ctx, insertFeed+`VALUES (?1, ?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (url) DO NOTHING`,
			f.URL, f.Title, f.IntervalMS, now, f.Secret); err != nil {
			return 0, fmt.Errorf("store: sync feeds: add %s: %w", f.URL, err)
		}
	}
	for _, f := range update {
		if _, err := tx.ExecContext(ctx, "UPDATE feeds SET user_title = ?, interval_ms = ?, secret = ? WHERE id = ?",
			f.Title, f.IntervalMS, f.Secret, f.ID); err != nil {
			return 0, fmt.Errorf("store: sync feeds: update feed %d: %w", f.ID, err)
		}
	}
	if len(update) > 0 {
		// A title is the outlet's name in everything served.
		if err := d.bumpDataVersion(ctx, tx); err != nil {
			return 0, fmt.Errorf("store: sync feeds: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: sync feeds: %w", err)
	}
	d.publishDataVersion(tx)
	return len(add), nil
}

// MoveFeed changes a feed's URL, keeping its entries and history (the demo
// server, say, came back on another port). It fails with ErrExists when
// another feed has that URL. Credentials in newURL replace the stored
// ones; without any, the stored ones are kept.
func (d *DB) MoveFeed(ctx context.Context, id int64, newURL string) error {
	newURL, secret := feeds.SplitSecrets(newURL)
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: move feed %d: %w", id, err)
	}
	defer tx.Rollback()
	if other, err := findFeed(ctx, tx, "f.url = ?", newURL); err == nil && other.ID != id {
		return fmt.Errorf("store: move feed %d: %w: %s (id %d)", id, store.ErrExists, newURL, other.ID)
	}
	res, err := tx.ExecContext(ctx, "UPDATE feeds SET url = ?, next_poll_at = ?, secret = CASE WHEN ? = '' THEN secret ELSE ? END WHERE id = ?",
		newURL, ms(d.Now()), secret, secret, id)
	if err != nil {
		return fmt.Errorf("store: move feed %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: feed %d: %w", id, store.ErrNotFound)
	}
	return tx.Commit()
}

// UpdateFeed changes a subscription's title or interval, or enables it
// again (see store.FeedUpdate), and returns it as it is then.
func (d *DB) UpdateFeed(ctx context.Context, id int64, u store.FeedUpdate) (store.Feed, error) {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Feed{}, fmt.Errorf("store: update feed %d: %w", id, err)
	}
	defer tx.Rollback()
	var interval *int64
	if u.Interval != nil {
		v := u.Interval.Milliseconds()
		interval = &v
	}
	res, err := tx.ExecContext(ctx, `UPDATE feeds SET user_title = COALESCE(?1, user_title), interval_ms = COALESCE(?2, interval_ms),
		disabled = CASE WHEN ?3 THEN 0 ELSE disabled END,
		disabled_reason = CASE WHEN ?3 THEN '' ELSE disabled_reason END,
		consecutive_errors = CASE WHEN ?3 AND disabled THEN 0 ELSE consecutive_errors END,
		next_poll_at = CASE WHEN ?3 AND disabled THEN ?4 ELSE next_poll_at END
		WHERE id = ?5`, u.Title, interval, u.Enable, ms(d.Now()), id)
	if err != nil {
		return store.Feed{}, fmt.Errorf("store: update feed %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.Feed{}, fmt.Errorf("store: feed %d: %w", id, store.ErrNotFound)
	}
	if u.Title != nil {
		// A title is the outlet's name in everything served.
		if err := d.bumpDataVersion(ctx, tx); err != nil {
			return store.Feed{}, fmt.Errorf("store: update feed %d: %w", id, err)
		}
	}
	f, err := findFeed(ctx, tx, "f.id = ?", id)
	if err != nil {
		return store.Feed{}, fmt.Errorf("store: update feed %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Feed{}, fmt.Errorf("store: update feed %d: %w", id, err)
	}
	d.publishDataVersion(tx)
	return f, nil
}

// Feed returns one feed by ID or URL.
func (d *DB) Feed(ctx context.Context, idOrURL string) (store.Feed, error) {
	f, err := findFeedByIDOrURL(ctx, d.db, idOrURL)
	if err != nil {
		return store.Feed{}, fmt.Errorf("store: feed %s: %w", idOrURL, err)
	}
	return f, nil
}

// Feeds returns every feed, with its entry count, in ID order.
func (d *DB) Feeds(ctx context.Context) ([]store.Feed, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+feedColumns+`,
		(SELECT COUNT(*) FROM entries e WHERE e.feed_id = f.id)
		FROM feeds f ORDER BY f.id`)
	if err != nil {
		return nil, fmt.Errorf("store: list feeds: %w", err)
	}
	defer rows.Close()
	var out []store.Feed
	for rows.Next() {
		var n int
		f, err := scanFeed(rows, &n)
		if err != nil {
			return nil, fmt.Errorf("store: list feeds: %w", err)
		}
		f.EntryCount = n
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list feeds: %w", err)
	}
	return out, nil
}

// DueFeeds returns the enabled feeds whose next poll time is not after now,
// most overdue first; all enabled feeds when all is true.
func (d *DB) DueFeeds(ctx context.Context, now time.Time, all bool) ([]store.Feed, error) {
	cond, args := "f.disabled = 0 AND f.next_poll_at <= ?", []any{ms(now)}
	if all {
		cond, args = "f.disabled = 0", nil
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+feedColumns+` FROM feeds f WHERE `+cond+
		` ORDER BY f.next_poll_at, f.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: due feeds: %w", err)
	}
	defer rows.Close()
	var out []store.Feed
	for rows.Next() {
		f, err := scanFeed(rows)
		if err != nil {
			return nil, fmt.Errorf("store: due feeds: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: due feeds: %w", err)
	}
	return out, nil
}

// NextPollAt returns the earliest next poll time of the enabled feeds, or the
// zero time when there are none; the scheduler sleeps until then.
func (d *DB) NextPollAt(ctx context.Context) (time.Time, error) {
	var v sql.NullInt64
	if err := d.db.QueryRowContext(ctx, "SELECT MIN(next_poll_at) FROM feeds WHERE disabled = 0").Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("store: next poll time: %w", err)
	}
	if !v.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(v.Int64).UTC(), nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func findFeed(ctx context.Context, q queryer, cond string, args ...any) (store.Feed, error) {
	f, err := scanFeed(q.QueryRowContext(ctx, `SELECT `+feedColumns+` FROM feeds f WHERE `+cond, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Feed{}, store.ErrNotFound
	}
	return f, err
}

// findFeedByIDOrURL treats an all-digit argument as an ID: feed URLs always
// have a scheme, so the two cannot be confused.
func findFeedByIDOrURL(ctx context.Context, q queryer, idOrURL string) (store.Feed, error) {
	if id, err := strconv.ParseInt(idOrURL, 10, 64); err == nil && !strings.Contains(idOrURL, ":") {
		return findFeed(ctx, q, "f.id = ?", id)
	}
	// A URL typed with its credentials names the feed it subscribed.
	public, _ := feeds.SplitSecrets(idOrURL)
	return findFeed(ctx, q, "f.url = ?", public)
}
