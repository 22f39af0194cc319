package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/codec"
)

// WriteTx runs fn in a write transaction of this process's one write
// path, and commits it if fn returns nil; otherwise, or when the commit
// fails, nothing of it is kept.
func (d *DB) WriteTx(ctx context.Context, fn func(store.Tx) error) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	t := &writeTx{tx: tx}
	err = fn(t)
	if cerr := t.close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = t.indexNew(ctx)
	}
	if err != nil {
		return err
	}
	if t.changed {
		if err := d.bumpDataVersion(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	d.publishDataVersion(tx)
	return nil
}

// writeTx is the SQLite Tx. Its deferred writes run on a txQueue, started
// by the first one, so that the clusterer goes on while SQLite writes.
type writeTx struct {
	tx *sql.Tx
	q  *txQueue
	// changed is set by a write a reader sees: the commit bumps the data
	// version.
	changed bool

	// On the queue's goroutine: the statements of every story, prepared
	// at their first use, and whether foreign keys are checked at commit.
	join, unpend, saveTopic *sql.Stmt
	fkDeferred              bool
	// buf holds each topic state's encoding (topicstate.go), reused from
	// one topic to the next (SQLite copies the bytes it is given): a
	// fresh slice per state was a tenth of a cold import's garbage.
	buf []byte

	// topicDocs is the statement of the split checks, on the caller's
	// goroutine.
	topicDocs *sql.Stmt

	// indexFrom is the first of the entries this transaction's polls
	// inserted that are not in the full-text index yet (0: none),
	// indexFeeds their feeds and indexCount how many; see indexNew.
	indexFrom  int64
	indexFeeds map[int64]bool
	indexCount int
}

// indexBatch is how many new entries a transaction's polls gather before
// they enter the full-text index (indexNew): FTS5 writes a segment of its
// index for every statement and merges segments as they pile up. On the
// cold 1,000 x 50 poll, one statement per saved feed (50 entries) made a
// thousand segments, whose merging was a third of the cost of saving;
// gathering 200 cut the run's time by 5 % at the same peak RSS, 800 by 7 %
// for 1 MiB more, and a whole transaction (up to 1,600) by 10 % for 4 MiB
// more, which SQLite's allocator keeps.
const indexBatch = 256

// indexNew puts the entries the transaction's polls inserted and did not
// index yet into the full-text index, in one statement (see indexBatch).
// It runs once indexBatch of them are waiting, before the commit, and
// before anything that could change or delete an entry not indexed yet
// (the index's update and delete triggers need the indexed words): a
// second poll of one of the feeds, a deletion.
func (t *writeTx) indexNew(ctx context.Context) error {
	if t.indexFrom == 0 {
		return nil
	}
	from := t.indexFrom
	t.indexFrom, t.indexFeeds, t.indexCount = 0, nil, 0
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO entries_fts (rowid, title, text)
		SELECT id, storyline_search_text(title), storyline_search_text(text) FROM entries WHERE id >= ?`, from); err != nil {
		return fmt.Errorf("index new entries for search: %w", err)
	}
	return nil
}

// later defers a write to the queue.
func (t *writeTx) later(write func() error) error {
	if t.q == nil {
		t.q = newTxQueue()
	}
	return t.q.do(write)
}

// sync waits for the deferred writes: tx is then the caller's.
func (t *writeTx) sync() error { return t.q.sync() }

// close waits for the deferred writes and releases the statements.
func (t *writeTx) close() error {
	err := t.q.close()
	for _, st := range []*sql.Stmt{t.join, t.unpend, t.saveTopic, t.topicDocs} {
		if st != nil {
			st.Close()
		}
	}
	return err
}

// prepared returns *st, preparing it at its first use.
func (t *writeTx) prepared(ctx context.Context, st **sql.Stmt, query string) (*sql.Stmt, error) {
	if *st == nil {
		s, err := t.tx.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		*st = s
	}
	return *st, nil
}

// deferForeignKeys lets a story's membership be written before its new
// topic's row, which is written once per batch: the reference is checked
// at commit. It runs on the queue's goroutine.
func (t *writeTx) deferForeignKeys(ctx context.Context) error {
	if t.fkDeferred {
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return err
	}
	t.fkDeferred = true
	return nil
}

func (t *writeTx) SavePoll(ctx context.Context, r store.PollResult) (store.SaveStats, []store.Edit, error) {
	var st store.SaveStats
	if err := t.sync(); err != nil {
		return st, nil, err
	}
	if t.indexFeeds[r.FeedID] {
		if err := t.indexNew(ctx); err != nil {
			return st, nil, err
		}
	}
	edits, first, err := recordPoll(ctx, t.tx, r, &st)
	if err != nil {
		return st, nil, err
	}
	if first != 0 {
		if t.indexFrom == 0 {
			t.indexFrom, t.indexFeeds = first, make(map[int64]bool)
		}
		t.indexFeeds[r.FeedID] = true
		t.indexCount += st.New
		if t.indexCount >= indexBatch {
			if err := t.indexNew(ctx); err != nil {
				return st, nil, err
			}
		}
	}
	if st.Changed() {
		t.changed = true
	}
	return st, edits, nil
}

func (t *writeTx) Feed(ctx context.Context, idOrURL string) (store.Feed, error) {
	if err := t.sync(); err != nil {
		return store.Feed{}, err
	}
	return findFeedByIDOrURL(ctx, t.tx, idOrURL)
}

func (t *writeTx) DeleteFeed(ctx context.Context, id int64) (store.Removed, error) {
	return t.deleteEntries(ctx, "e.feed_id = ?", []any{id}, "DELETE FROM feeds WHERE id = ?")
}

func (t *writeTx) DeleteEntries(ctx context.Context, ids []int64) (store.Removed, error) {
	list, err := jsonList(ids)
	if err != nil {
		return store.Removed{}, err
	}
	return t.deleteEntries(ctx, "e.id IN (SELECT value FROM json_each(?))", []any{list},
		"DELETE FROM entries WHERE id IN (SELECT value FROM json_each(?))")
}

func (t *writeTx) ClusterGeneration(ctx context.Context) (int64, error) {
	if err := t.sync(); err != nil {
		return 0, err
	}
	var gen int64
	if err := t.tx.QueryRowContext(ctx, "SELECT generation FROM cluster_meta WHERE id = 1").Scan(&gen); err != nil {
		return 0, fmt.Errorf("read cluster generation: %w", err)
	}
	return gen, nil
}

func (t *writeTx) LoadClusterState(ctx context.Context, span time.Duration) (*cluster.State, error) {
	if err := t.sync(); err != nil {
		return nil, err
	}
	return loadClusterState(ctx, t.tx, span)
}

func (t *writeTx) PendingDocs(ctx context.Context, limit int) ([]cluster.Document, error) {
	if err := t.sync(); err != nil {
		return nil, err
	}
	return queryDocs(ctx, t.tx, "SELECT "+docColumns+` FROM pending_entries p JOIN entries e ON e.id = p.entry_id
		ORDER BY e.published_at, e.id LIMIT ?`, limit)
}

func (t *writeTx) AllDocs(ctx context.Context) ([]cluster.Document, error) {
	if err := t.sync(); err != nil {
		return nil, err
	}
	// The rows are read to the end before writing: one connection cannot
	// interleave a read cursor with writes in the same transaction safely.
	return queryDocs(ctx, t.tx, "SELECT "+docColumns+" FROM entries e ORDER BY e.published_at, e.id")
}

func (t *writeTx) TopicDocs(ctx context.Context, topic int64) ([]cluster.Document, error) {
	if err := t.sync(); err != nil {
		// A deferred write failed: that is the error, not this read.
		return nil, err
	}
	st, err := t.prepared(ctx, &t.topicDocs, topicDocsQuery)
	if err == nil {
		var docs []cluster.Document
		if docs, err = scanDocs(st.QueryContext(ctx, topic)); err == nil {
			return docs, nil
		}
	}
	return nil, fmt.Errorf("read the stories of topic %d: %w", topic, err)
}

func (t *writeTx) TopicOf(ctx context.Context, entry int64) (int64, bool, error) {
	if err := t.sync(); err != nil {
		return 0, false, err
	}
	var topic int64
	err := t.tx.QueryRowContext(ctx, "SELECT topic_id FROM topic_entries WHERE entry_id = ?", entry).Scan(&topic)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return topic, true, nil
}

func (t *writeTx) TopicCount(ctx context.Context) (int, error) {
	if err := t.sync(); err != nil {
		return 0, err
	}
	var n int
	err := t.tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM topics").Scan(&n)
	return n, err
}

func (t *writeTx) Join(ctx context.Context, entry, topic int64) error {
	t.changed = true
	return t.later(func() error {
		st, err := t.prepared(ctx, &t.join, "INSERT INTO topic_entries (entry_id, topic_id) VALUES (?, ?)")
		if err == nil {
			err = t.deferForeignKeys(ctx)
		}
		if err == nil {
			_, err = st.ExecContext(ctx, entry, topic)
		}
		if err != nil {
			return fmt.Errorf("add entry %d to topic %d: %w", entry, topic, err)
		}
		return nil
	})
}

func (t *writeTx) MergeTopic(ctx context.Context, from, to int64) error {
	t.changed = true
	return t.later(func() error {
		if err := t.deferForeignKeys(ctx); err != nil {
			return err
		}
		// The merged topic's ID, and the IDs that already led to it, lead
		// to the surviving topic from now on: a subscription to its feed
		// follows the storyline. The alias goes in before the topic goes,
		// which would take aliases pointing at it along.
		for _, q := range []string{
			"UPDATE topic_entries SET topic_id = ?1 WHERE topic_id = ?2",
			"UPDATE topic_aliases SET topic_id = ?1 WHERE topic_id = ?2",
			"INSERT INTO topic_aliases (id, topic_id) VALUES (?2, ?1)",
			"DELETE FROM topics WHERE id = ?2",
		} {
			if _, err := t.tx.ExecContext(ctx, q, to, from); err != nil {
				return fmt.Errorf("merge topic %d into %d: %w", from, to, err)
			}
		}
		return nil
	})
}

func (t *writeTx) MoveEntries(ctx context.Context, entries []int64, to int64) error {
	t.changed = true
	return t.later(func() error {
		if err := t.deferForeignKeys(ctx); err != nil {
			return err
		}
		for _, id := range entries {
			if _, err := t.tx.ExecContext(ctx, "UPDATE topic_entries SET topic_id = ? WHERE entry_id = ?", to, id); err != nil {
				return fmt.Errorf("split: move entry %d to topic %d: %w", id, to, err)
			}
		}
		return nil
	})
}

func (t *writeTx) MarkClustered(ctx context.Context, entry int64) error {
	return t.later(func() error {
		st, err := t.prepared(ctx, &t.unpend, "DELETE FROM pending_entries WHERE entry_id = ?")
		if err == nil {
			_, err = st.ExecContext(ctx, entry)
		}
		return err
	})
}

func (t *writeTx) AddDocFreqs(ctx context.Context, df map[string]int64) error {
	return t.later(func() error {
		if err := upsertTermStats(ctx, t.tx, df); err != nil {
			return err
		}
		for _, n := range df {
			if n < 0 {
				if _, err := t.tx.ExecContext(ctx, "DELETE FROM term_stats WHERE df <= 0"); err != nil {
					return fmt.Errorf("update term statistics: %w", err)
				}
				break
			}
		}
		return nil
	})
}

// saveTopicQuery writes a topic state. A topic's size is counted from its
// stored members (an index range count), which is what readers see,
// whatever a topic state written by an older version says.
const saveTopicQuery = `INSERT INTO topics (id, name, headline, first_seen_at, last_seen_at, kept_at, size, state)
	VALUES (?, ?, ?, ?, ?, ?, (SELECT COUNT(*) FROM topic_entries WHERE topic_id = ?), ?)
	ON CONFLICT (id) DO UPDATE SET name = excluded.name, headline = excluded.headline,
		first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,
		kept_at = excluded.kept_at, size = excluded.size, state = excluded.state`

func (t *writeTx) SaveTopic(ctx context.Context, ts cluster.TopicState) error {
	t.changed = true
	return t.later(func() error {
		st, err := t.prepared(ctx, &t.saveTopic, saveTopicQuery)
		if err == nil {
			t.buf = codec.AppendTopicState(t.buf[:0], ts)
			_, err = st.ExecContext(ctx, ts.ID, ts.Label, ts.Headline, ms(ts.First), ms(ts.Last),
				max(ms(ts.Kept), ms(ts.Last)), ts.ID, t.buf)
		}
		if err != nil {
			return fmt.Errorf("save topic %d: %w", ts.ID, err)
		}
		return nil
	})
}

func (t *writeTx) DeleteTopic(ctx context.Context, id int64) error {
	t.changed = true
	return t.later(func() error {
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM topics WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete topic %d: %w", id, err)
		}
		return nil
	})
}

func (t *writeTx) SaveClusterCounters(ctx context.Context, c store.ClusterCounters) (int64, error) {
	if err := t.sync(); err != nil {
		return 0, err
	}
	var gen int64
	if err := t.tx.QueryRowContext(ctx, `UPDATE cluster_meta SET docs = MAX(docs + ?, 0),
		last_topic_id = MAX(last_topic_id, ?), clock = MAX(clock, ?), generation = generation + 1,
		analyzer = CASE WHEN analyzer = 0 THEN ? ELSE analyzer END
		WHERE id = 1 RETURNING generation`, c.Docs, c.LastTopicID, ms(c.Clock), cluster.AnalyzerVersion).Scan(&gen); err != nil {
		return 0, fmt.Errorf("update cluster counters: %w", err)
	}
	return gen, nil
}

func (t *writeTx) BumpGeneration(ctx context.Context) error {
	if err := t.sync(); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, "UPDATE cluster_meta SET generation = generation + 1")
	return err
}

func (t *writeTx) ResetClustering(ctx context.Context) (int64, error) {
	if err := t.sync(); err != nil {
		return 0, err
	}
	t.changed = true
	var lastID int64
	if err := t.tx.QueryRowContext(ctx, "SELECT last_topic_id FROM cluster_meta WHERE id = 1").Scan(&lastID); err != nil {
		return 0, err
	}
	for _, q := range []string{
		// Kept until the new topics exist; a rollback drops them too.
		"CREATE TEMP TABLE old_topic_entries AS SELECT entry_id, topic_id FROM topic_entries",
		"CREATE TEMP TABLE old_topic_aliases AS SELECT id, topic_id FROM topic_aliases",
		"DELETE FROM topic_entries", "DELETE FROM topics", "DELETE FROM term_stats", "DELETE FROM pending_entries",
		"UPDATE cluster_meta SET docs = 0, clock = 0, analyzer = 0",
	} {
		if _, err := t.tx.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}
	return lastID, nil
}

func (t *writeTx) KeepTopicIDs(ctx context.Context) error {
	if err := t.sync(); err != nil {
		return err
	}
	return saveReclusterAliases(ctx, t.tx)
}
