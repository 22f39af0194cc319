package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/searchtext"
)

// Topics returns the topics q selects, ranked by store.RankTopics.
func (d *DB) Topics(ctx context.Context, q store.TopicQuery) ([]store.Topic, error) {
	conds, args := []string{"size >= ?"}, []any{max(q.MinSize, 1)}
	if !q.Since.IsZero() {
		conds, args = append(conds, "last_seen_at >= ?"), append(args, ms(q.Since))
	}
	rows, err := d.db.QueryContext(ctx, `SELECT id, name, headline, first_seen_at, last_seen_at, size
		FROM topics WHERE `+strings.Join(conds, " AND ")+` ORDER BY last_seen_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list topics: %w", err)
	}
	defer rows.Close()
	var out []store.Topic
	for rows.Next() {
		t, err := scanTopic(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list topics: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list topics: %w", err)
	}
	store.RankTopics(out)
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	if err := d.fillOutlets(ctx, out); err != nil {
		return nil, err
	}
	return store.KeepStories(out, q.MinSize), nil
}

// fillOutlets counts the outlets (feed names) and the distinct articles (by
// link, see store.Topic.Stories) of the given topics. It is done when
// reading, for the topics shown, because keeping them current on every
// write would cost a scan of each growing topic per batch.
func (d *DB) fillOutlets(ctx context.Context, ts []store.Topic) error {
	const chunk = 500
	for start := 0; start < len(ts); start += chunk {
		part := ts[start:min(start+chunk, len(ts))]
		args := make([]any, len(part))
		at := make(map[int64]int, len(part))
		for i, t := range part {
			args[i] = t.ID
			at[t.ID] = start + i
		}
		rows, err := d.db.QueryContext(ctx, `SELECT te.topic_id, COUNT(DISTINCT `+feedTitle+`),
			COUNT(DISTINCT NULLIF(e.link, '')) + SUM(CASE WHEN e.link = '' THEN 1 ELSE 0 END)
			FROM topic_entries te JOIN entries e ON e.id = te.entry_id JOIN feeds f ON f.id = e.feed_id
			WHERE te.topic_id IN (?`+strings.Repeat(", ?", len(part)-1)+`) GROUP BY te.topic_id`, args...)
		if err != nil {
			return fmt.Errorf("store: count outlets: %w", err)
		}
		for rows.Next() {
			var id int64
			var outlets, stories int
			if err := rows.Scan(&id, &outlets, &stories); err != nil {
				rows.Close()
				return fmt.Errorf("store: count outlets: %w", err)
			}
			ts[at[id]].Outlets, ts[at[id]].Stories = outlets, stories
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: count outlets: %w", err)
		}
	}
	return nil
}

// CountTopics returns how many topics with at least minSize stories had a
// story at or after since: the active storylines.
func (d *DB) CountTopics(ctx context.Context, since time.Time, minSize int) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM topics WHERE last_seen_at >= ? AND size >= ?",
		ms(since), minSize).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count topics: %w", err)
	}
	return n, nil
}

func scanTopic(sc interface{ Scan(...any) error }) (store.Topic, error) {
	var t store.Topic
	var first, last int64
	if err := sc.Scan(&t.ID, &t.Name, &t.Headline, &first, &last, &t.Size); err != nil {
		return store.Topic{}, err
	}
	t.First, t.Last = fromMS(first), fromMS(last)
	return t, nil
}

// Topic returns one topic.
func (d *DB) Topic(ctx context.Context, id int64) (store.Topic, error) {
	t, err := scanTopic(d.db.QueryRowContext(ctx, `SELECT id, name, headline, first_seen_at, last_seen_at, size
		FROM topics WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Topic{}, fmt.Errorf("store: topic %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Topic{}, fmt.Errorf("store: topic %d: %w", id, err)
	}
	ts := []store.Topic{t}
	if err := d.fillOutlets(ctx, ts); err != nil {
		return store.Topic{}, err
	}
	return ts[0], nil
}

// TopicMovedTo returns the topic whose stories an ID that names no topic of
// its own now belong to: the topic it was merged into, or after a
// recluster the new topic holding most of its stories. ErrGone when its
// stories are gone; ErrNotFound when the ID never named a topic.
func (d *DB) TopicMovedTo(ctx context.Context, id int64) (int64, error) {
	var to int64
	err := d.db.QueryRowContext(ctx, "SELECT topic_id FROM topic_aliases WHERE id = ?", id).Scan(&to)
	if errors.Is(err, sql.ErrNoRows) {
		// Topic IDs are handed out in increasing order: one not above the
		// last, and without a topic now, named a topic once.
		var last int64
		err := d.db.QueryRowContext(ctx, "SELECT last_topic_id FROM cluster_meta WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM topics WHERE id = ?)", id).Scan(&last)
		switch {
		case err == nil && id > 0 && id <= last:
			return 0, fmt.Errorf("store: topic %d: %w", id, store.ErrGone)
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return 0, fmt.Errorf("store: topic %d: %w", id, err)
		}
		return 0, fmt.Errorf("store: topic %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: topic %d: %w", id, err)
	}
	return to, nil
}

// Search returns the entries whose title or text match the words of query
// (all of them, in any order), best match first.
func (d *DB) Search(ctx context.Context, query string, limit int) ([]store.StoredEntry, error) {
	match := ftsQuery(query)
	if match == "" {
		return nil, fmt.Errorf("store: search: no words in %q", query)
	}
	if limit <= 0 {
		limit = 50
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+entryColumns+` FROM entries_fts
		JOIN entries e ON e.id = entries_fts.rowid
		JOIN feeds f ON f.id = e.feed_id
		LEFT JOIN topic_entries te ON te.entry_id = e.id
		LEFT JOIN topics tp ON tp.id = te.topic_id
		WHERE entries_fts MATCH ? ORDER BY bm25(entries_fts, 3.0, 1.0), e.published_at DESC LIMIT ?`, match, limit)
	if err != nil {
		return nil, fmt.Errorf("store: search %q: %w", query, err)
	}
	defer rows.Close()
	var out []store.StoredEntry
	for rows.Next() {
		se, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("store: search %q: %w", query, err)
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

// ftsQuery turns what a person types into an FTS5 query that cannot be a
// syntax error: every word is quoted (so AND, NEAR, * and quotes are just
// text), and the words must all occur. A Chinese or Japanese word is the
// phrase of its character pairs (searchtext.Query), as the index holds it.
func ftsQuery(q string) string {
	var parts []string
	// Control characters (a NUL ends an SQL string in FTS5's parser) are
	// not text anyone searches for.
	q = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, q)
	for _, w := range strings.Fields(q) {
		w = strings.Trim(w, `"'.,;:!?()[]{}`)
		if w == "" {
			continue
		}
		for _, phrase := range searchtext.Query(w) {
			parts = append(parts, `"`+strings.ReplaceAll(phrase, `"`, `""`)+`"`)
		}
	}
	return strings.Join(parts, " ")
}

// saveReclusterAliases points every topic ID of the replaced clustering
// (topics and their aliases) at the new topic holding most of its stories,
// the lowest ID on a tie. An old topic none of whose stories remain gets
// no alias.
func saveReclusterAliases(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{
		`WITH votes AS (
			SELECT o.topic_id AS old, n.topic_id AS new, COUNT(*) AS n
			FROM old_topic_entries o JOIN topic_entries n ON n.entry_id = o.entry_id
			GROUP BY o.topic_id, n.topic_id
		), best AS (
			SELECT old, new FROM (
				SELECT old, new, ROW_NUMBER() OVER (PARTITION BY old ORDER BY n DESC, new) AS rank
				FROM votes)
			WHERE rank = 1
		)
		INSERT INTO topic_aliases (id, topic_id)
		SELECT old, new FROM best
		UNION ALL
		SELECT a.id, b.new FROM old_topic_aliases a JOIN best b ON b.old = a.topic_id`,
		"DROP TABLE temp.old_topic_entries", "DROP TABLE temp.old_topic_aliases",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("keep old topic IDs: %w", err)
		}
	}
	return nil
}
