package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/codec"
)

// querier is what a pool and a transaction both answer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const feedColumns = `f.id, f.url, f.title, f.user_title, f.site_link, f.language, f.interval_ms, f.ttl_ms,
	f.etag, f.last_modified, f.last_polled_at, f.last_status, f.consecutive_errors, f.last_error,
	f.next_poll_at, f.disabled, f.disabled_reason, f.created_at, f.secret`

func scanFeed(sc pgx.Row, extra ...any) (store.Feed, error) {
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

// findFeed returns the feed matching cond (on feeds f), or
// store.ErrNotFound.
func findFeed(ctx context.Context, q querier, cond string, args ...any) (store.Feed, error) {
	f, err := scanFeed(q.QueryRow(ctx, `SELECT `+feedColumns+` FROM feeds f WHERE `+cond, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Feed{}, store.ErrNotFound
	}
	return f, err
}

// findFeedByIDOrURL treats an all-digit argument as an ID: feed URLs always
// have a scheme, so the two cannot be confused. lock, if set, is a
// locking clause for the row.
func findFeedByIDOrURL(ctx context.Context, q querier, idOrURL string, lock ...string) (store.Feed, error) {
	suffix := " " + strings.Join(lock, " ")
	if id, err := strconv.ParseInt(idOrURL, 10, 64); err == nil && !strings.Contains(idOrURL, ":") {
		return findFeed(ctx, q, "f.id = $1"+suffix, id)
	}
	// A URL typed with its credentials names the feed it subscribed.
	public, _ := feeds.SplitSecrets(idOrURL)
	return findFeed(ctx, q, "f.url = $1"+suffix, public)
}

// insertFeed subscribes a feed ($1 URL, $2 title, $3 interval, $4 now, $5
// secret): the URL it was added with stays its added_url when a permanent
// redirect moves it, and it is due at once.
const insertFeed = `INSERT INTO feeds (url, added_url, user_title, interval_ms, next_poll_at, created_at, secret) `

// AddFeed subscribes to a feed, due for polling at once. It returns
// store.ErrExists (with the existing feed) when the URL is already
// subscribed; credentials given with it replace the stored ones.
func (d *DB) AddFeed(ctx context.Context, nf store.NewFeed) (store.Feed, error) {
	if nf.URL == "" {
		return store.Feed{}, errors.New("store: add feed: empty URL")
	}
	var secret string
	nf.URL, secret = feeds.SplitSecrets(nf.URL)
	var f store.Feed
	var exists bool
	err := d.writeFunc(ctx, func(tx pgx.Tx) (bool, error) {
		// A feed that moved (permanent redirect) is still the one
		// subscribed with this URL.
		var err error
		f, err = findFeed(ctx, tx, "f.url = $1 OR f.added_url = $1 ORDER BY f.url = $1 DESC LIMIT 1", nf.URL)
		if err == nil {
			exists = true
			return false, d.replaceSecret(ctx, tx, &f, secret)
		} else if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		now := ms(d.Now())
		var id int64
		err = tx.QueryRow(ctx, insertFeed+`VALUES ($1, $1, $2, $3, $4, $4, $5) ON CONFLICT (url) DO NOTHING RETURNING id`,
			nf.URL, nf.Title, nf.Interval.Milliseconds(), now, secret).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			// Another instance subscribed it since our look-up.
			exists = true
			if f, err = findFeed(ctx, tx, "f.url = $1", nf.URL); err != nil {
				return false, err
			}
			return false, d.replaceSecret(ctx, tx, &f, secret)
		}
		if err != nil {
			return false, err
		}
		f, err = findFeed(ctx, tx, "f.id = $1", id)
		return false, err
	})
	if err != nil {
		return store.Feed{}, fmt.Errorf("store: add feed %s: %w", nf.URL, err)
	}
	if exists {
		return f, fmt.Errorf("%w: %s (id %d)", store.ErrExists, nf.URL, f.ID)
	}
	return f, nil
}

// replaceSecret stores the credentials a feed was subscribed again with
// (a rotated token); none given keeps the stored ones.
func (d *DB) replaceSecret(ctx context.Context, tx pgx.Tx, f *store.Feed, secret string) error {
	if secret == "" || secret == f.Secret {
		return nil
	}
	if _, err := tx.Exec(ctx, "UPDATE feeds SET secret = $1 WHERE id = $2", secret, f.ID); err != nil {
		return err
	}
	f.Secret = secret
	return nil
}

// addFeedsBatch is how many feeds of an import go to the server in one
// round trip.
const addFeedsBatch = 256

// AddFeeds subscribes to a stream of feeds, as an OPML import lists them,
// in one transaction: either all are added or, when the stream fails,
// none. Feeds already subscribed (by their URL or the URL they were added
// with) are counted, not changed. Memory does not grow with the stream.
func (d *DB) AddFeeds(ctx context.Context, nfs iter.Seq2[store.NewFeed, error]) (added, existing int, err error) {
	// failed is the error the function below ends with: the stream's own
	// or one it already wrapped, returned as it is; an error of the
	// transaction itself (begin, commit) is wrapped here.
	var failed error
	fail := func(err error) (bool, error) { failed = err; return false, err }
	err = d.writeFunc(ctx, func(tx pgx.Tx) (bool, error) {
		now := ms(d.Now())
		var b pgx.Batch
		send := func() error {
			if b.Len() == 0 {
				return nil
			}
			br := tx.SendBatch(ctx, &b)
			for range b.Len() {
				tag, err := br.Exec()
				if err != nil {
					br.Close()
					return err
				}
				if tag.RowsAffected() > 0 {
					added++
				} else {
					existing++
				}
			}
			b = pgx.Batch{}
			return br.Close()
		}
		for nf, err := range nfs {
			if err != nil {
				return fail(err)
			}
			public, secret := feeds.SplitSecrets(nf.URL)
			if public == "" {
				return fail(errors.New("store: add feeds: empty URL"))
			}
			b.Queue(insertFeed+`SELECT $1, $1, $2, $3, $4, $4, $5
				WHERE NOT EXISTS (SELECT 1 FROM feeds WHERE added_url = $1) ON CONFLICT (url) DO NOTHING`,
				public, nf.Title, nf.Interval.Milliseconds(), now, secret)
			if b.Len() >= addFeedsBatch {
				if err := send(); err != nil {
					return fail(fmt.Errorf("store: add feeds: %w", err))
				}
			}
		}
		if err := send(); err != nil {
			return fail(fmt.Errorf("store: add feeds: %w", err))
		}
		return false, nil
	})
	switch {
	case err == nil:
		return added, existing, nil
	case err == failed:
		return 0, 0, err
	}
	return 0, 0, fmt.Errorf("store: add feeds: %w", err)
}

// SyncFeeds makes sure the given feeds are subscribed with the given titles
// and intervals, as a configuration file lists them: missing ones are
// added, changed options are updated, and nothing else is touched. It
// reads first and writes only when something differs. It returns how many
// feeds it added.
func (d *DB) SyncFeeds(ctx context.Context, nfs []store.NewFeed) (int, error) {
	if len(nfs) == 0 {
		return 0, nil
	}
	var have []codec.SubscribedFeed
	rows, err := d.pool.Query(ctx, "SELECT id, url, added_url, user_title, interval_ms, secret FROM feeds")
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
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: sync feeds: %w", err)
	}
	add, update := codec.PlanFeedSync(have, nfs)
	if len(add) == 0 && len(update) == 0 {
		return 0, nil
	}
	var b pgx.Batch
	for _, f := range add {
		b.Queue(insertFeed+`VALUES ($1, $1, $2, $3, $4, $4, $5) ON CONFLICT (url) DO NOTHING`,
			f.URL, f.Title, f.IntervalMS, ms(d.Now()), f.Secret)
	}
	for _, f := range update {
		b.Queue("UPDATE feeds SET user_title = $1, interval_ms = $2, secret = $3 WHERE id = $4",
			f.Title, f.IntervalMS, f.Secret, f.ID)
	}
	err = d.writeFunc(ctx, func(tx pgx.Tx) (bool, error) {
		// A title is the outlet's name in everything served.
		return len(update) > 0, tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("store: sync feeds: %w", err)
	}
	return len(add), nil
}

// MoveFeed changes a feed's URL, keeping its entries and history. It fails
// with store.ErrExists when another feed has that URL. Credentials in
// newURL replace the stored ones; without any, the stored ones are kept.
func (d *DB) MoveFeed(ctx context.Context, id int64, newURL string) error {
	newURL, secret := feeds.SplitSecrets(newURL)
	return d.writeFunc(ctx, func(tx pgx.Tx) (bool, error) {
		if other, err := findFeed(ctx, tx, "f.url = $1", newURL); err == nil && other.ID != id {
			return false, fmt.Errorf("store: move feed %d: %w: %s (id %d)", id, store.ErrExists, newURL, other.ID)
		}
		tag, err := tx.Exec(ctx, "UPDATE feeds SET url = $1, next_poll_at = $2, secret = CASE WHEN $3 = '' THEN secret ELSE $3 END WHERE id = $4",
			newURL, ms(d.Now()), secret, id)
		if err != nil {
			return false, fmt.Errorf("store: move feed %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return false, fmt.Errorf("store: feed %d: %w", id, store.ErrNotFound)
		}
		return false, nil
	})
}

// UpdateFeed changes a subscription's title or interval, or enables it
// again (see store.FeedUpdate), and returns it as it is then.
func (d *DB) UpdateFeed(ctx context.Context, id int64, u store.FeedUpdate) (store.Feed, error) {
	var f store.Feed
	var interval *int64
	if u.Interval != nil {
		v := u.Interval.Milliseconds()
		interval = &v
	}
	err := d.writeFunc(ctx, func(tx pgx.Tx) (bool, error) {
		tag, err := tx.Exec(ctx, `UPDATE feeds SET user_title = COALESCE($1, user_title), interval_ms = COALESCE($2, interval_ms),
			disabled = CASE WHEN $3 THEN FALSE ELSE disabled END,
			disabled_reason = CASE WHEN $3 THEN '' ELSE disabled_reason END,
			consecutive_errors = CASE WHEN $3 AND disabled THEN 0 ELSE consecutive_errors END,
			next_poll_at = CASE WHEN $3 AND disabled THEN $4 ELSE next_poll_at END
			WHERE id = $5`, u.Title, interval, u.Enable, ms(d.Now()), id)
		if err != nil {
			return false, err
		}
		if tag.RowsAffected() == 0 {
			return false, store.ErrNotFound
		}
		if f, err = findFeed(ctx, tx, "f.id = $1", id); err != nil {
			return false, err
		}
		// A title is the outlet's name in everything served.
		return u.Title != nil, nil
	})
	if err != nil {
		return store.Feed{}, fmt.Errorf("store: update feed %d: %w", id, err)
	}
	return f, nil
}

// Feed returns one feed by ID or URL.
func (d *DB) Feed(ctx context.Context, idOrURL string) (store.Feed, error) {
	f, err := findFeedByIDOrURL(ctx, d.pool, idOrURL)
	if err != nil {
		return store.Feed{}, fmt.Errorf("store: feed %s: %w", idOrURL, err)
	}
	return f, nil
}

// Feeds returns every feed, with its entry count, in ID order.
func (d *DB) Feeds(ctx context.Context) ([]store.Feed, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+feedColumns+`,
		(SELECT COUNT(*) FROM entries e WHERE e.feed_id = f.id)
		FROM feeds f ORDER BY f.id`)
	if err != nil {
		return nil, fmt.Errorf("store: list feeds: %w", err)
	}
	out, err := collect(rows, func(r pgx.CollectableRow) (store.Feed, error) {
		var n int
		f, err := scanFeed(r, &n)
		f.EntryCount = n
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list feeds: %w", err)
	}
	return out, nil
}

// DueFeeds returns the enabled feeds whose next poll time is not after now,
// most overdue first; all enabled feeds when all is true. It ignores
// leases: it is the queue of a single instance (see ClaimDueFeeds).
func (d *DB) DueFeeds(ctx context.Context, now time.Time, all bool) ([]store.Feed, error) {
	cond, args := "NOT f.disabled AND f.next_poll_at <= $1", []any{ms(now)}
	if all {
		cond, args = "NOT f.disabled", nil
	}
	rows, err := d.pool.Query(ctx, `SELECT `+feedColumns+` FROM feeds f WHERE `+cond+
		` ORDER BY f.next_poll_at, f.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: due feeds: %w", err)
	}
	out, err := collect(rows, func(r pgx.CollectableRow) (store.Feed, error) { return scanFeed(r) })
	if err != nil {
		return nil, fmt.Errorf("store: due feeds: %w", err)
	}
	return out, nil
}

// NextPollAt returns the earliest time an enabled feed is due and not
// leased (see ClaimDueFeeds), or the zero time when there are none: a
// scheduler sleeps until then rather than asking again for feeds that
// another instance is polling.
func (d *DB) NextPollAt(ctx context.Context) (time.Time, error) {
	var v *int64
	if err := d.pool.QueryRow(ctx, "SELECT MIN(GREATEST(next_poll_at, lease_until)) FROM feeds WHERE NOT disabled").Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("store: next poll time: %w", err)
	}
	if v == nil {
		return time.Time{}, nil
	}
	return time.UnixMilli(*v).UTC(), nil
}
