package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/codec"
)

// loadClusterState loads the statistics and the topics a story joined
// within span of the clock (kept_at): the clusterer's resident topics.
func loadClusterState(ctx context.Context, tx *sql.Tx, span time.Duration) (*cluster.State, error) {
	st := &cluster.State{DocFreq: make(map[string]int64)}
	var clock int64
	if err := tx.QueryRowContext(ctx, "SELECT docs, last_topic_id, clock FROM cluster_meta WHERE id = 1").
		Scan(&st.Docs, &st.LastTopicID, &clock); err != nil {
		return nil, fmt.Errorf("load cluster state: %w", err)
	}
	st.Clock = fromMS(clock)
	rows, err := tx.QueryContext(ctx, "SELECT term, df FROM term_stats")
	if err != nil {
		return nil, fmt.Errorf("load term statistics: %w", err)
	}
	for rows.Next() {
		var term string
		var df int64
		if err := rows.Scan(&term, &df); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load term statistics: %w", err)
		}
		st.DocFreq[term] = df
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("load term statistics: %w", err)
	}
	// Only the topics inside the window can still grow, and those out of
	// it for less than History can take late stories.
	rows, err = tx.QueryContext(ctx, "SELECT id, state FROM topics WHERE kept_at >= ? ORDER BY id",
		clock-span.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("load open topics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("load open topics: %w", err)
		}
		ts, err := codec.DecodeTopicState(b)
		if err != nil {
			return nil, fmt.Errorf("topic %d: corrupt state: %w", id, err)
		}
		st.Topics = append(st.Topics, ts)
	}
	return st, rows.Err()
}

// AnalyzerStale reports whether the stored clustering was made by another
// version of the analyzer (cluster.AnalyzerVersion) than this program's:
// its statistics count other terms, and a recluster brings them in line.
func (d *DB) AnalyzerStale(ctx context.Context) (stored int, stale bool, err error) {
	if err := d.db.QueryRowContext(ctx, "SELECT analyzer FROM cluster_meta WHERE id = 1").Scan(&stored); err != nil {
		return 0, false, fmt.Errorf("store: analyzer version: %w", err)
	}
	return stored, stored != 0 && stored != cluster.AnalyzerVersion, nil
}

// upsertTermStats adds the batch's document frequencies, many rows per
// statement: a long article has hundreds of terms, and one round trip per
// term would dominate the cost of saving it.
func upsertTermStats(ctx context.Context, tx *sql.Tx, df map[string]int64) error {
	terms := make([]string, 0, len(df))
	for t := range df {
		terms = append(terms, t)
	}
	sort.Strings(terms)
	const rowsPer = 400
	for start := 0; start < len(terms); start += rowsPer {
		end := min(start+rowsPer, len(terms))
		args := make([]any, 0, 2*(end-start))
		for _, t := range terms[start:end] {
			args = append(args, t, df[t])
		}
		q := "INSERT INTO term_stats (term, df) VALUES (?, ?)" + strings.Repeat(", (?, ?)", end-start-1) +
			" ON CONFLICT (term) DO UPDATE SET df = df + excluded.df"
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("update term statistics: %w", err)
		}
	}
	return nil
}

// deleteEntries deletes, with del (args are cond's), the entries matching
// cond (on entries e), and returns what of them the clustering counted:
// the stories not pending, and the topics of the entries.
func (t *writeTx) deleteEntries(ctx context.Context, cond string, args []any, del string) (store.Removed, error) {
	if err := t.sync(); err != nil {
		return store.Removed{}, err
	}
	if err := t.indexNew(ctx); err != nil { // the index's delete trigger reads it
		return store.Removed{}, err
	}
	t.changed = true
	var r store.Removed
	// Pending stories were never counted: they leave without a trace.
	gone, err := queryDocs(ctx, t.tx, "SELECT "+docColumns+` FROM entries e WHERE `+cond+`
		AND NOT EXISTS (SELECT 1 FROM pending_entries p WHERE p.entry_id = e.id) ORDER BY e.published_at, e.id`, args...)
	if err != nil {
		return r, fmt.Errorf("read the entries: %w", err)
	}
	r.Stories = gone
	rows, err := t.tx.QueryContext(ctx, `SELECT DISTINCT te.topic_id FROM topic_entries te
		JOIN entries e ON e.id = te.entry_id WHERE `+cond+` ORDER BY te.topic_id`, args...)
	if err != nil {
		return r, fmt.Errorf("read the entries' topics: %w", err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return r, fmt.Errorf("read the entries' topics: %w", err)
		}
		r.Topics = append(r.Topics, id)
	}
	if err := rows.Close(); err != nil {
		return r, fmt.Errorf("read the entries' topics: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, del, args...); err != nil {
		return r, err
	}
	return r, nil
}

// jsonList is ids as a JSON array, which json_each turns into rows: one
// parameter for any number of IDs.
func jsonList(ids []int64) (string, error) {
	b, err := json.Marshal(ids)
	return string(b), err
}

// docColumns are the columns queryDocs reads, and topicDocsQuery a topic's
// stories in time order, the order in which they are clustered.
const (
	docColumns     = "e.id, e.title, e.text, e.link, e.language, e.published_at"
	topicDocsQuery = "SELECT " + docColumns + ` FROM topic_entries te JOIN entries e ON e.id = te.entry_id
		WHERE te.topic_id = ? ORDER BY e.published_at, e.id`
)

// queryDocs reads entries as the clusterer's documents; the query selects
// docColumns. The rows are read to the end before returning, so the caller
// may write in the same transaction next.
func queryDocs(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]cluster.Document, error) {
	return scanDocs(tx.QueryContext(ctx, query, args...))
}

func scanDocs(rows *sql.Rows, err error) ([]cluster.Document, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var docs []cluster.Document
	for rows.Next() {
		var d cluster.Document
		var id, pub int64
		if err := rows.Scan(&id, &d.Title, &d.Text, &d.Link, &d.Language, &pub); err != nil {
			return nil, err
		}
		d.ID, d.Time = fmt.Sprint(id), fromMS(pub)
		docs = append(docs, d)
	}
	return docs, rows.Err()
}
