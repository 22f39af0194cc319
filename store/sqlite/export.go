package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/storyline/storyline/store"
)

// Export calls fn with the whole install as streams read from one
// snapshot (a read transaction), so that a daemon writing meanwhile
// changes nothing of the copy. Nothing is written.
func (d *DB) Export(ctx context.Context, fn func(*store.Export) error) error {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: export: %w", err)
	}
	defer tx.Rollback()
	x := &store.Export{}
	// The snapshot begins with this first read.
	if x.Counts, err = countRows(ctx, tx); err != nil {
		return fmt.Errorf("store: export: %w", err)
	}
	if x.Meta, err = readMeta(ctx, tx); err != nil {
		return fmt.Errorf("store: export: %w", err)
	}
	x.Feeds = stream(ctx, tx, "feeds", `SELECT `+feedColumns+`, f.title, f.added_url FROM feeds f ORDER BY f.id`,
		func(r *sql.Rows) (store.FeedRecord, error) {
			var f store.FeedRecord
			var err error
			f.Feed, err = scanFeed(r, &f.OwnTitle, &f.AddedURL)
			return f, err
		})
	x.Entries = stream(ctx, tx, "entries", `SELECT id, feed_id, guid, link, title, summary, content, text, author,
		categories, language, image, published_at, updated_at, first_seen_at, content_hash FROM entries ORDER BY id`,
		func(r *sql.Rows) (store.EntryRecord, error) {
			var x store.EntryRecord
			var cats string
			var pub, upd, seen int64
			e := &x.Entry
			if err := r.Scan(&x.ID, &x.FeedID, &e.ID, &e.Link, &e.Title, &e.Summary, &e.Content, &e.Text, &e.Author,
				&cats, &e.Language, &e.Image, &pub, &upd, &seen, &x.Hash); err != nil {
				return x, err
			}
			if err := json.Unmarshal([]byte(cats), &e.Categories); err != nil {
				return x, fmt.Errorf("entry %d: categories: %w", x.ID, err)
			}
			e.Published, e.Updated, x.FirstSeen = fromMS(pub), fromMS(upd), fromMS(seen)
			return x, nil
		})
	x.Pending = stream(ctx, tx, "pending entries", "SELECT entry_id FROM pending_entries ORDER BY entry_id",
		func(r *sql.Rows) (id int64, err error) { return id, r.Scan(&id) })
	x.Topics = stream(ctx, tx, "topics", `SELECT id, name, headline, first_seen_at, last_seen_at, size, kept_at, state
		FROM topics ORDER BY id`,
		func(r *sql.Rows) (store.TopicRecord, error) {
			var t store.TopicRecord
			var first, last, kept int64
			err := r.Scan(&t.ID, &t.Name, &t.Headline, &first, &last, &t.Size, &kept, &t.State)
			t.First, t.Last, t.Kept = fromMS(first), fromMS(last), fromMS(kept)
			return t, err
		})
	x.Memberships = stream(ctx, tx, "memberships", "SELECT entry_id, topic_id FROM topic_entries ORDER BY entry_id",
		func(r *sql.Rows) (m store.Membership, err error) { return m, r.Scan(&m.EntryID, &m.TopicID) })
	x.Aliases = stream(ctx, tx, "topic aliases", "SELECT id, topic_id FROM topic_aliases ORDER BY id",
		func(r *sql.Rows) (a store.TopicAlias, err error) { return a, r.Scan(&a.ID, &a.TopicID) })
	x.Terms = stream(ctx, tx, "term statistics", "SELECT term, df FROM term_stats ORDER BY term",
		func(r *sql.Rows) (t store.TermFreq, err error) { return t, r.Scan(&t.Term, &t.Docs) })
	return fn(x)
}

// stream reads the rows of query one at a time, as they are consumed.
func stream[T any](ctx context.Context, tx *sql.Tx, what, query string, scan func(*sql.Rows) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			yield(zero, fmt.Errorf("store: export %s: %w", what, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				yield(zero, fmt.Errorf("store: export %s: %w", what, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(zero, fmt.Errorf("store: export %s: %w", what, err))
		}
	}
}

// countRows counts the rows of the tables Export streams.
func countRows(ctx context.Context, q queryer) (store.Counts, error) {
	var c store.Counts
	err := q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM feeds), (SELECT COUNT(*) FROM entries),
		(SELECT COUNT(*) FROM pending_entries), (SELECT COUNT(*) FROM topics), (SELECT COUNT(*) FROM topic_entries),
		(SELECT COUNT(*) FROM topic_aliases), (SELECT COUNT(*) FROM term_stats)`).
		Scan(&c.Feeds, &c.Entries, &c.Pending, &c.Topics, &c.Memberships, &c.Aliases, &c.Terms)
	if err != nil {
		return c, fmt.Errorf("count rows: %w", err)
	}
	return c, nil
}

func readMeta(ctx context.Context, q queryer) (store.Meta, error) {
	var m store.Meta
	var clock, changed int64
	err := q.QueryRowContext(ctx, `SELECT docs, last_topic_id, clock, generation, analyzer, data_version, data_changed_at
		FROM cluster_meta WHERE id = 1`).
		Scan(&m.Docs, &m.LastTopicID, &clock, &m.Generation, &m.Analyzer, &m.Version.Version, &changed)
	if err != nil {
		return m, fmt.Errorf("read cluster_meta: %w", err)
	}
	m.Clock, m.Version.Changed = fromMS(clock), fromMS(changed)
	return m, nil
}

// Import copies the install x streams into this database, which must be
// empty (store.ErrNotEmpty otherwise), in one transaction: when a stream
// fails, ctx ends or the copy's counts differ from x.Counts, nothing of
// it is kept. It returns the copy's counts.
func (d *DB) Import(ctx context.Context, x *store.Export) (store.Counts, error) {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Counts{}, fmt.Errorf("store: import: %w", err)
	}
	defer tx.Rollback()
	have, err := countRows(ctx, tx)
	if err != nil {
		return store.Counts{}, fmt.Errorf("store: import: %w", err)
	}
	if err := store.CheckEmpty(have); err != nil {
		return store.Counts{}, err
	}
	old, err := readMeta(ctx, tx)
	if err != nil {
		return store.Counts{}, fmt.Errorf("store: import: %w", err)
	}
	err = insertAll(ctx, tx, "feeds", `INSERT INTO feeds (id, url, added_url, secret, title, user_title, site_link,
		language, interval_ms, ttl_ms, etag, last_modified, last_polled_at, last_status, consecutive_errors,
		last_error, next_poll_at, disabled, disabled_reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, x.Feeds,
		func(f store.FeedRecord) []any {
			return []any{f.ID, f.URL, f.AddedURL, f.Secret, f.OwnTitle, f.UserTitle, f.SiteLink,
				f.Language, f.Interval.Milliseconds(), f.TTL.Milliseconds(), f.ETag, f.LastModified, ms(f.LastPolledAt),
				f.LastStatus, f.Errors, f.LastError, ms(f.NextPollAt), f.Disabled, f.DisabledReason, ms(f.CreatedAt)}
		})
	if err == nil {
		err = insertAll(ctx, tx, "entries", `INSERT INTO entries (id, feed_id, guid, link, title, summary, content,
			text, author, categories, language, image, published_at, updated_at, first_seen_at, content_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, x.Entries,
			func(r store.EntryRecord) []any {
				e := r.Entry
				cats, _ := json.Marshal(nonNil(e.Categories))
				return []any{r.ID, r.FeedID, e.ID, e.Link, e.Title, e.Summary, e.Content,
					e.Text, e.Author, string(cats), e.Language, e.Image, ms(e.Published), ms(e.Updated), ms(r.FirstSeen), r.Hash}
			})
	}
	if err == nil {
		// In one statement, as saveEntries indexes a poll's entries (see
		// migration 0009).
		if _, err = tx.ExecContext(ctx, "INSERT INTO entries_fts (rowid, title, text) SELECT id, storyline_search_text(title), storyline_search_text(text) FROM entries"); err != nil {
			err = fmt.Errorf("store: import: index entries for search: %w", err)
		}
	}
	if err == nil {
		err = insertAll(ctx, tx, "pending entries", "INSERT INTO pending_entries (entry_id) VALUES (?)", x.Pending,
			func(id int64) []any { return []any{id} })
	}
	if err == nil {
		err = insertAll(ctx, tx, "topics", `INSERT INTO topics (id, name, headline, first_seen_at, last_seen_at,
			kept_at, size, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, x.Topics,
			func(t store.TopicRecord) []any {
				return []any{t.ID, t.Name, t.Headline, ms(t.First), ms(t.Last), ms(t.Kept), t.Size, t.State}
			})
	}
	if err == nil {
		err = insertAll(ctx, tx, "memberships", "INSERT INTO topic_entries (entry_id, topic_id) VALUES (?, ?)", x.Memberships,
			func(m store.Membership) []any { return []any{m.EntryID, m.TopicID} })
	}
	if err == nil {
		err = insertAll(ctx, tx, "topic aliases", "INSERT INTO topic_aliases (id, topic_id) VALUES (?, ?)", x.Aliases,
			func(a store.TopicAlias) []any { return []any{a.ID, a.TopicID} })
	}
	if err == nil {
		err = insertAll(ctx, tx, "term statistics", "INSERT INTO term_stats (term, df) VALUES (?, ?)", x.Terms,
			func(t store.TermFreq) []any { return []any{t.Term, t.Docs} })
	}
	if err != nil {
		return store.Counts{}, err
	}
	m := store.ImportedMeta(x.Meta, old, d.Now())
	if _, err := tx.ExecContext(ctx, `UPDATE cluster_meta SET docs = ?, last_topic_id = ?, clock = ?, generation = ?,
		analyzer = ?, data_version = ?, data_changed_at = ? WHERE id = 1`,
		m.Docs, m.LastTopicID, ms(m.Clock), m.Generation, m.Analyzer, m.Version.Version, ms(m.Version.Changed)); err != nil {
		return store.Counts{}, fmt.Errorf("store: import: write cluster_meta: %w", err)
	}
	got, err := countRows(ctx, tx)
	if err != nil {
		return store.Counts{}, fmt.Errorf("store: import: %w", err)
	}
	if err := store.CheckCopy(x.Counts, got); err != nil {
		return store.Counts{}, err
	}
	// Published once committed, as bumpDataVersion's are.
	d.pendingVersion.tx = tx
	d.pendingVersion.v = store.DataVersion{Version: m.Version.Version, Changed: fromMS(ms(m.Version.Changed))}
	if err := tx.Commit(); err != nil {
		return store.Counts{}, fmt.Errorf("store: import: %w", err)
	}
	d.publishDataVersion(tx)
	return got, nil
}

// insertAll runs query, prepared, with the arguments of every record of
// seq.
func insertAll[T any](ctx context.Context, tx *sql.Tx, what, query string, seq iter.Seq2[T, error], args func(T) []any) error {
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return fmt.Errorf("store: import %s: %w", what, err)
	}
	defer st.Close()
	for v, err := range seq {
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args(v)...); err != nil {
			return fmt.Errorf("store: import %s: %w", what, err)
		}
	}
	return nil
}
