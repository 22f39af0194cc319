package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/searchtext"
)

// conds collects the conditions of a dynamic query and their arguments,
// numbering the placeholders.
type conds struct {
	list []string
	args []any
}

// add adds a condition whose one placeholder is written %s.
func (c *conds) add(cond string, arg any) {
	c.args = append(c.args, arg)
	c.list = append(c.list, fmt.Sprintf(cond, fmt.Sprintf("$%d", len(c.args))))
}

func (c *conds) where() string {
	if len(c.list) == 0 {
		return ""
	}
	return "WHERE " + strings.Join(c.list, " AND ")
}

// feedTitle is a feed's name as shown (feeds f): the user's title, else
// the feed's own, else its URL.
const feedTitle = `COALESCE(NULLIF(f.user_title, ''), NULLIF(f.title, ''), f.url)`

const entryColumns = `e.id, e.feed_id, ` + feedTitle + `, f.url,
	e.guid, e.link, e.title, e.summary, e.content, e.text, e.author, e.categories, e.language,
	e.published_at, e.updated_at, e.first_seen_at, COALESCE(te.topic_id, 0), COALESCE(tp.name, ''), e.image`

// entryJoins are the tables entryColumns reads beside entries e.
const entryJoins = ` JOIN feeds f ON f.id = e.feed_id
	LEFT JOIN topic_entries te ON te.entry_id = e.id
	LEFT JOIN topics tp ON tp.id = te.topic_id `

func scanEntry(sc pgx.Row) (store.StoredEntry, error) {
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

func collectEntries(rows pgx.Rows, err error) ([]store.StoredEntry, error) {
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r pgx.CollectableRow) (store.StoredEntry, error) { return scanEntry(r) })
}

// Entries returns the entries matching q, newest first.
func (d *DB) Entries(ctx context.Context, q store.EntryQuery) ([]store.StoredEntry, error) {
	var c conds
	if q.FeedID != 0 {
		c.add("e.feed_id = %s", q.FeedID)
	}
	if q.TopicID != 0 {
		c.add("e.id IN (SELECT entry_id FROM topic_entries WHERE topic_id = %s)", q.TopicID)
	}
	if !q.Since.IsZero() {
		c.add("e.published_at >= %s", ms(q.Since))
	}
	limit := ""
	if q.Limit > 0 {
		c.args = append(c.args, q.Limit)
		limit = fmt.Sprintf("LIMIT $%d", len(c.args))
	}
	out, err := collectEntries(d.pool.Query(ctx, `SELECT `+entryColumns+` FROM entries e`+entryJoins+
		c.where()+` ORDER BY e.published_at DESC, e.id DESC `+limit, c.args...))
	if err != nil {
		return nil, fmt.Errorf("store: list entries: %w", err)
	}
	return out, nil
}

// Entry returns one entry by its row ID.
func (d *DB) Entry(ctx context.Context, id int64) (store.StoredEntry, error) {
	se, err := scanEntry(d.pool.QueryRow(ctx, `SELECT `+entryColumns+` FROM entries e`+entryJoins+`WHERE e.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.StoredEntry{}, fmt.Errorf("store: entry %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.StoredEntry{}, fmt.Errorf("store: entry %d: %w", id, err)
	}
	return se, nil
}

// Search returns the entries whose title or text contain all the words of
// query, in any order, best match first (a match in the title counts
// three times one in the text, as in SQLite, and a word as typed more than
// another form of it), then newest first. Words also match as the
// entry's language's stemmer reduces them, so "closed" finds "closes" in
// English entries, which SQLite's search does not; query syntax (quotes,
// AND, -) is text.
func (d *DB) Search(ctx context.Context, query string, limit int) ([]store.StoredEntry, error) {
	// PostgreSQL text cannot hold a NUL, and no one searches for control
	// characters.
	words := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, query)
	if strings.IndexFunc(words, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) < 0 {
		return nil, fmt.Errorf("store: search: no words in %q", query)
	}
	if limit <= 0 {
		limit = 50
	}
	// Chinese and Japanese words are looked up by their character pairs,
	// as entries.search holds them (migration 0002).
	var parts []string
	for _, w := range strings.Fields(words) {
		parts = append(parts, searchtext.Query(w)...)
	}
	words = strings.Join(parts, " ")
	out, err := collectEntries(d.pool.Query(ctx, `SELECT `+entryColumns+` FROM entries e`+entryJoins+`
		WHERE e.search @@ storyline_tsquery($1)
		ORDER BY ts_rank('{0.1, 0.3, 0.3333, 1}', e.search, storyline_tsquery($1)) DESC, e.published_at DESC, e.id DESC
		LIMIT $2`, words, limit))
	if err != nil {
		return nil, fmt.Errorf("store: search %q: %w", query, err)
	}
	return out, nil
}

const topicColumns = "id, name, headline, first_seen_at, last_seen_at, size"

func scanTopic(sc pgx.Row) (store.Topic, error) {
	var t store.Topic
	var first, last int64
	if err := sc.Scan(&t.ID, &t.Name, &t.Headline, &first, &last, &t.Size); err != nil {
		return store.Topic{}, err
	}
	t.First, t.Last = fromMS(first), fromMS(last)
	return t, nil
}

// Topics returns the topics q selects, ranked by store.RankTopics.
func (d *DB) Topics(ctx context.Context, q store.TopicQuery) ([]store.Topic, error) {
	var c conds
	c.add("size >= %s", max(q.MinSize, 1))
	if !q.Since.IsZero() {
		c.add("last_seen_at >= %s", ms(q.Since))
	}
	rows, err := d.pool.Query(ctx, `SELECT `+topicColumns+` FROM topics `+c.where()+` ORDER BY last_seen_at DESC, id DESC`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("store: list topics: %w", err)
	}
	out, err := collect(rows, func(r pgx.CollectableRow) (store.Topic, error) { return scanTopic(r) })
	if err != nil {
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
// link, see store.Topic.Stories) of the given topics, when reading the
// topics shown rather than on every write.
func (d *DB) fillOutlets(ctx context.Context, ts []store.Topic) error {
	if len(ts) == 0 {
		return nil
	}
	ids := make([]int64, len(ts))
	at := make(map[int64]int, len(ts))
	for i, t := range ts {
		ids[i], at[t.ID] = t.ID, i
	}
	rows, err := d.pool.Query(ctx, `SELECT te.topic_id, COUNT(DISTINCT `+feedTitle+`),
		COUNT(DISTINCT NULLIF(e.link, '')) + SUM(CASE WHEN e.link = '' THEN 1 ELSE 0 END)
		FROM topic_entries te JOIN entries e ON e.id = te.entry_id JOIN feeds f ON f.id = e.feed_id
		WHERE te.topic_id = ANY($1) GROUP BY te.topic_id`, ids)
	if err != nil {
		return fmt.Errorf("store: count outlets: %w", err)
	}
	var id int64
	var outlets, stories int
	_, err = pgx.ForEachRow(rows, []any{&id, &outlets, &stories}, func() error {
		ts[at[id]].Outlets, ts[at[id]].Stories = outlets, stories
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: count outlets: %w", err)
	}
	return nil
}

// CountTopics returns how many topics with at least minSize stories had a
// story at or after since: the active storylines.
func (d *DB) CountTopics(ctx context.Context, since time.Time, minSize int) (int, error) {
	var n int
	if err := d.pool.QueryRow(ctx, "SELECT COUNT(*) FROM topics WHERE last_seen_at >= $1 AND size >= $2",
		ms(since), minSize).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count topics: %w", err)
	}
	return n, nil
}

// Topic returns one topic.
func (d *DB) Topic(ctx context.Context, id int64) (store.Topic, error) {
	t, err := scanTopic(d.pool.QueryRow(ctx, `SELECT `+topicColumns+` FROM topics WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
// its own now belong to (a merge, a recluster); store.ErrGone when its
// stories are gone, store.ErrNotFound when the ID never named a topic.
func (d *DB) TopicMovedTo(ctx context.Context, id int64) (int64, error) {
	var to int64
	err := d.pool.QueryRow(ctx, "SELECT topic_id FROM topic_aliases WHERE id = $1", id).Scan(&to)
	if errors.Is(err, pgx.ErrNoRows) {
		// Topic IDs are handed out in increasing order: one not above the
		// last, and without a topic now, named a topic once.
		var last int64
		err := d.pool.QueryRow(ctx, "SELECT last_topic_id FROM cluster_meta WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM topics WHERE id = $1)", id).Scan(&last)
		switch {
		case err == nil && id > 0 && id <= last:
			return 0, fmt.Errorf("store: topic %d: %w", id, store.ErrGone)
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return 0, fmt.Errorf("store: topic %d: %w", id, err)
		}
		return 0, fmt.Errorf("store: topic %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: topic %d: %w", id, err)
	}
	return to, nil
}

// TopicOutlets returns, for each of the given topics, its outlets with
// their number of stories, most stories first, then by title (compared
// byte by byte, as SQLite does, whatever the database's collation).
func (d *DB) TopicOutlets(ctx context.Context, topicIDs []int64) (map[int64][]store.OutletCount, error) {
	out := make(map[int64][]store.OutletCount, len(topicIDs))
	if len(topicIDs) == 0 {
		return out, nil
	}
	rows, err := d.pool.Query(ctx, `SELECT te.topic_id, MIN(f.id), `+feedTitle+`,
		COUNT(DISTINCT NULLIF(e.link, '')) + SUM(CASE WHEN e.link = '' THEN 1 ELSE 0 END) AS n
		FROM topic_entries te JOIN entries e ON e.id = te.entry_id JOIN feeds f ON f.id = e.feed_id
		WHERE te.topic_id = ANY($1)
		GROUP BY te.topic_id, `+feedTitle+` ORDER BY te.topic_id, n DESC, `+feedTitle+` COLLATE "C"`, topicIDs)
	if err != nil {
		return nil, fmt.Errorf("store: topic outlets: %w", err)
	}
	var topic int64
	var oc store.OutletCount
	if _, err := pgx.ForEachRow(rows, []any{&topic, &oc.FeedID, &oc.Title, &oc.Stories}, func() error {
		out[topic] = append(out[topic], oc)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: topic outlets: %w", err)
	}
	return out, nil
}

// AnalyzerStale reports whether the stored clustering was made by another
// version of the analyzer (cluster.AnalyzerVersion) than this program's.
func (d *DB) AnalyzerStale(ctx context.Context) (stored int, stale bool, err error) {
	if err := d.pool.QueryRow(ctx, "SELECT analyzer FROM cluster_meta WHERE id = 1").Scan(&stored); err != nil {
		return 0, false, fmt.Errorf("store: analyzer version: %w", err)
	}
	return stored, stored != 0 && stored != cluster.AnalyzerVersion, nil
}

// PruneCandidates lists the entries r removes, as of the Now clock, in ID
// order.
func (d *DB) PruneCandidates(ctx context.Context, r store.Retention) ([]int64, error) {
	cutoff := int64(-1) // published_at is never negative: nothing is too old
	if r.MaxAge > 0 {
		cutoff = ms(d.Now().Add(-r.MaxAge))
	}
	perFeed := r.MaxPerFeed
	if perFeed <= 0 {
		perFeed = -1
	}
	rows, err := d.pool.Query(ctx, `SELECT id FROM (
		SELECT id, published_at, ROW_NUMBER() OVER (PARTITION BY feed_id ORDER BY published_at DESC, id DESC) AS rank
		FROM entries) ranked
		WHERE published_at < $1 OR ($2 > 0 AND rank > $2) ORDER BY id`, cutoff, perFeed)
	if err != nil {
		return nil, fmt.Errorf("store: prune: %w", err)
	}
	ids, err := collect(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: prune: %w", err)
	}
	return ids, nil
}

// collect reads rows with fn. No rows give a nil slice, as in the SQLite
// store, which JSON shows as null rather than [].
func collect[T any](rows pgx.Rows, fn pgx.RowToFunc[T]) ([]T, error) {
	return pgx.AppendRows([]T(nil), rows, fn)
}
