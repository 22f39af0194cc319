package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/storyline/storyline/store"
)

// Entries returns the entries matching q, newest first.
func (d *DB) Entries(ctx context.Context, q store.EntryQuery) ([]store.StoredEntry, error) {
	var conds []string
	var args []any
	if q.FeedID != 0 {
		conds, args = append(conds, "e.feed_id = ?"), append(args, q.FeedID)
	}
	if q.TopicID != 0 {
		conds, args = append(conds, "e.id IN (SELECT entry_id FROM topic_entries WHERE topic_id = ?)"), append(args, q.TopicID)
	}
	if !q.Since.IsZero() {
		conds, args = append(conds, "e.published_at >= ?"), append(args, ms(q.Since))
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	limit := ""
	if q.Limit > 0 {
		limit, args = "LIMIT ?", append(args, q.Limit)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+entryColumns+` FROM entries e
		JOIN feeds f ON f.id = e.feed_id
		LEFT JOIN topic_entries te ON te.entry_id = e.id
		LEFT JOIN topics tp ON tp.id = te.topic_id
		`+where+` ORDER BY e.published_at DESC, e.id DESC `+limit, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list entries: %w", err)
	}
	defer rows.Close()
	var out []store.StoredEntry
	for rows.Next() {
		se, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list entries: %w", err)
		}
		out = append(out, se)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list entries: %w", err)
	}
	return out, nil
}

// feedTitle is a feed's name as shown (feeds f): the user's title, else
// the feed's own, else its URL.
const feedTitle = `COALESCE(NULLIF(f.user_title, ''), NULLIF(f.title, ''), f.url)`

const entryColumns = `e.id, e.feed_id, ` + feedTitle + `, f.url,
	e.guid, e.link, e.title, e.summary, e.content, e.text, e.author, e.categories, e.language,
	e.published_at, e.updated_at, e.first_seen_at, COALESCE(te.topic_id, 0), COALESCE(tp.name, ''), e.image`

func scanEntry(sc interface{ Scan(...any) error }) (store.StoredEntry, error) {
	var se store.StoredEntry
	var cats string
	var pub, upd, seen int64
	e := &se.Entry
	if err := sc.Scan(&se.ID, &se.FeedID, &se.FeedTitle, &se.FeedURL, &e.ID, &e.Link, &e.Title, &e.Summary,
		&e.Content, &e.Text, &e.Author, &cats, &e.Language, &pub, &upd, &seen, &se.TopicID, &se.TopicName, &e.Image); err != nil {
		return store.StoredEntry{}, err
	}
	if err := json.Unmarshal([]byte(cats), &e.Categories); err != nil {
		return store.StoredEntry{}, fmt.Errorf("entry %d: categories: %w", se.ID, err)
	}
	e.Published, e.Updated, se.FirstSeen = fromMS(pub), fromMS(upd), fromMS(seen)
	return se, nil
}

// Entry returns one entry by its row ID.
func (d *DB) Entry(ctx context.Context, id int64) (store.StoredEntry, error) {
	se, err := scanEntry(d.db.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM entries e
		JOIN feeds f ON f.id = e.feed_id
		LEFT JOIN topic_entries te ON te.entry_id = e.id
		LEFT JOIN topics tp ON tp.id = te.topic_id WHERE e.id = ?`, id))
	if err == sql.ErrNoRows {
		return store.StoredEntry{}, fmt.Errorf("store: entry %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.StoredEntry{}, fmt.Errorf("store: entry %d: %w", id, err)
	}
	return se, nil
}
