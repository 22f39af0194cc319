package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// Export calls fn with the whole install as streams read from one
// snapshot (a read-only repeatable-read transaction), so that instances
// writing meanwhile change nothing of the copy. Nothing is written.
func (d *DB) Export(ctx context.Context, fn func(*store.Export) error) error {
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("store: export: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	x := &store.Export{}
	if x.Counts, err = countRows(ctx, tx); err != nil {
		return fmt.Errorf("store: export: %w", err)
	}
	if x.Meta, err = readMeta(ctx, tx); err != nil {
		return fmt.Errorf("store: export: %w", err)
	}
	x.Feeds = stream(ctx, tx, "feeds", `SELECT `+feedColumns+`, f.title, f.added_url FROM feeds f ORDER BY f.id`,
		func(r pgx.Rows) (store.FeedRecord, error) {
			var f store.FeedRecord
			var err error
			f.Feed, err = scanFeed(r, &f.OwnTitle, &f.AddedURL)
			return f, err
		})
	x.Entries = stream(ctx, tx, "entries", `SELECT id, feed_id, guid, link, title, summary, content, text, author,
		categories, language, image, published_at, updated_at, first_seen_at, content_hash FROM entries ORDER BY id`,
		func(r pgx.Rows) (store.EntryRecord, error) {
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
		func(r pgx.Rows) (id int64, err error) { return id, r.Scan(&id) })
	x.Topics = stream(ctx, tx, "topics", `SELECT id, name, headline, first_seen_at, last_seen_at, size, kept_at, state
		FROM topics ORDER BY id`,
		func(r pgx.Rows) (store.TopicRecord, error) {
			var t store.TopicRecord
			var first, last, kept int64
			err := r.Scan(&t.ID, &t.Name, &t.Headline, &first, &last, &t.Size, &kept, &t.State)
			t.First, t.Last, t.Kept = fromMS(first), fromMS(last), fromMS(kept)
			return t, err
		})
	x.Memberships = stream(ctx, tx, "memberships", "SELECT entry_id, topic_id FROM topic_entries ORDER BY entry_id",
		func(r pgx.Rows) (m store.Membership, err error) { return m, r.Scan(&m.EntryID, &m.TopicID) })
	x.Aliases = stream(ctx, tx, "topic aliases", "SELECT id, topic_id FROM topic_aliases ORDER BY id",
		func(r pgx.Rows) (a store.TopicAlias, err error) { return a, r.Scan(&a.ID, &a.TopicID) })
	x.Terms = stream(ctx, tx, "term statistics", "SELECT term, df FROM term_stats ORDER BY term",
		func(r pgx.Rows) (t store.TermFreq, err error) { return t, r.Scan(&t.Term, &t.Docs) })
	return fn(x)
}

// stream reads the rows of query as they are consumed: pgx reads a
// result from the connection as it goes, not whole.
func stream[T any](ctx context.Context, tx pgx.Tx, what, query string, scan func(pgx.Rows) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := tx.Query(ctx, query)
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
func countRows(ctx context.Context, q querier) (store.Counts, error) {
	var c store.Counts
	err := q.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM feeds), (SELECT COUNT(*) FROM entries),
		(SELECT COUNT(*) FROM pending_entries), (SELECT COUNT(*) FROM topics), (SELECT COUNT(*) FROM topic_entries),
		(SELECT COUNT(*) FROM topic_aliases), (SELECT COUNT(*) FROM term_stats)`).
		Scan(&c.Feeds, &c.Entries, &c.Pending, &c.Topics, &c.Memberships, &c.Aliases, &c.Terms)
	if err != nil {
		return c, fmt.Errorf("count rows: %w", err)
	}
	return c, nil
}

func readMeta(ctx context.Context, q querier) (store.Meta, error) {
	var m store.Meta
	var clock, changed int64
	err := q.QueryRow(ctx, `SELECT c.docs, c.last_topic_id, c.clock, c.generation, c.analyzer, v.version, v.changed_at
		FROM cluster_meta c, data_version v WHERE c.id = 1 AND v.id = 1`).
		Scan(&m.Docs, &m.LastTopicID, &clock, &m.Generation, &m.Analyzer, &m.Version.Version, &changed)
	if err != nil {
		return m, fmt.Errorf("read cluster_meta and data_version: %w", err)
	}
	m.Clock, m.Version.Changed = fromMS(clock), fromMS(changed)
	return m, nil
}

// Import copies the install x streams into this database, which must be
// empty (store.ErrNotEmpty otherwise), in one transaction: when a stream
// fails, ctx ends or the copy's counts differ from x.Counts, nothing of
// it is kept. Each table is written by one COPY; the identity sequences
// of feeds and entries go on after the copied IDs. Other instances'
// writes to the tables wait until it ends. It returns the copy's counts.
func (d *DB) Import(ctx context.Context, x *store.Export) (store.Counts, error) {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return store.Counts{}, fmt.Errorf("store: import: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Another instance adding a feed between the check and the commit
	// would be merged into the copy; readers go on.
	if _, err := tx.Exec(ctx, `LOCK TABLE feeds, entries, pending_entries, topics, topic_entries, topic_aliases,
		term_stats IN EXCLUSIVE MODE`); err != nil {
		return store.Counts{}, fmt.Errorf("store: import: %w", err)
	}
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
	err = copyAll(ctx, tx, "feeds", []string{"id", "url", "added_url", "secret", "title", "user_title", "site_link",
		"language", "interval_ms", "ttl_ms", "etag", "last_modified", "last_polled_at", "last_status",
		"consecutive_errors", "last_error", "next_poll_at", "disabled", "disabled_reason", "created_at"}, x.Feeds,
		func(f store.FeedRecord) []any {
			s := feeds.Storable
			return []any{f.ID, f.URL, f.AddedURL, f.Secret, s(f.OwnTitle), s(f.UserTitle), s(f.SiteLink),
				s(f.Language), f.Interval.Milliseconds(), f.TTL.Milliseconds(), f.ETag, f.LastModified, ms(f.LastPolledAt), f.LastStatus,
				f.Errors, f.LastError, ms(f.NextPollAt), f.Disabled, f.DisabledReason, ms(f.CreatedAt)}
		})
	if err == nil {
		err = copyAll(ctx, tx, "entries", []string{"id", "feed_id", "guid", "link", "title", "summary", "content",
			"text", "author", "categories", "language", "image", "published_at", "updated_at", "first_seen_at", "content_hash"}, x.Entries,
			func(r store.EntryRecord) []any {
				// Text stored before the parser dropped NULs and invalid
				// UTF-8 (which SQLite took) is cleaned as the parser
				// cleans it now: PostgreSQL refuses it.
				e, s := r.Entry, feeds.Storable
				cats := make([]string, len(e.Categories))
				for i, c := range e.Categories {
					cats[i] = s(c)
				}
				catsJSON, _ := json.Marshal(cats)
				return []any{r.ID, r.FeedID, s(e.ID), s(e.Link), s(e.Title), s(e.Summary), s(e.Content),
					s(e.Text), s(e.Author), string(catsJSON), s(e.Language), s(e.Image), ms(e.Published), ms(e.Updated), ms(r.FirstSeen), r.Hash}
			})
	}
	if err == nil {
		err = copyAll(ctx, tx, "pending_entries", []string{"entry_id"}, x.Pending,
			func(id int64) []any { return []any{id} })
	}
	if err == nil {
		err = copyAll(ctx, tx, "topics", []string{"id", "name", "headline", "first_seen_at", "last_seen_at",
			"kept_at", "size", "state"}, x.Topics,
			func(t store.TopicRecord) []any {
				return []any{t.ID, feeds.Storable(t.Name), feeds.Storable(t.Headline), ms(t.First), ms(t.Last), ms(t.Kept), t.Size, t.State}
			})
	}
	if err == nil {
		err = copyAll(ctx, tx, "topic_entries", []string{"entry_id", "topic_id"}, x.Memberships,
			func(m store.Membership) []any { return []any{m.EntryID, m.TopicID} })
	}
	if err == nil {
		err = copyAll(ctx, tx, "topic_aliases", []string{"id", "topic_id"}, x.Aliases,
			func(a store.TopicAlias) []any { return []any{a.ID, a.TopicID} })
	}
	if err == nil {
		err = copyAll(ctx, tx, "term_stats", []string{"term", "df"}, x.Terms,
			func(t store.TermFreq) []any { return []any{t.Term, t.Docs} })
	}
	if err != nil {
		return store.Counts{}, err
	}
	// The next feed or entry added gets the ID after the last copied:
	// rows given their IDs do not move an identity's sequence.
	for _, table := range []string{"feeds", "entries"} {
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'),
			COALESCE(MAX(id), 0) + 1, false) FROM `+table); err != nil {
			return store.Counts{}, fmt.Errorf("store: import: continue the IDs of %s: %w", table, err)
		}
	}
	m := store.ImportedMeta(x.Meta, old, d.Now())
	if _, err := tx.Exec(ctx, `UPDATE cluster_meta SET docs = $1, last_topic_id = $2, clock = $3, generation = $4,
		analyzer = $5 WHERE id = 1`, m.Docs, m.LastTopicID, ms(m.Clock), m.Generation, m.Analyzer); err != nil {
		return store.Counts{}, fmt.Errorf("store: import: write cluster_meta: %w", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE data_version SET version = $1, changed_at = $2 WHERE id = 1",
		m.Version.Version, ms(m.Version.Changed)); err != nil {
		return store.Counts{}, fmt.Errorf("store: import: write data_version: %w", err)
	}
	got, err := countRows(ctx, tx)
	if err != nil {
		return store.Counts{}, fmt.Errorf("store: import: %w", err)
	}
	if err := store.CheckCopy(x.Counts, got); err != nil {
		return store.Counts{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Counts{}, fmt.Errorf("store: import: %w", err)
	}
	d.publishDataVersion(store.DataVersion{Version: m.Version.Version, Changed: fromMS(ms(m.Version.Changed))})
	return got, nil
}

// copyAll writes the records of seq into table with one COPY, pulling
// them as COPY sends them.
func copyAll[T any](ctx context.Context, tx pgx.Tx, table string, columns []string, seq iter.Seq2[T, error], row func(T) []any) error {
	next, stop := iter.Pull2(seq)
	defer stop()
	var readErr error // the stream's own, returned as it is
	_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromFunc(func() ([]any, error) {
		v, err, ok := next()
		if !ok {
			return nil, nil
		}
		if err != nil {
			readErr = err
			return nil, err
		}
		return row(v), nil
	}))
	switch {
	case readErr != nil:
		return readErr
	case err != nil && ctx.Err() != nil:
		// pgx closes the connection of a cancelled copy, and its error
		// may then be the closed connection's: the cancel is the cause.
		return fmt.Errorf("store: import %s: %w", table, context.Cause(ctx))
	case err != nil:
		return fmt.Errorf("store: import %s: %w", table, err)
	}
	return nil
}
