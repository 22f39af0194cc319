package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/storyline/storyline/cluster"
)

// Tx is one write transaction, seen as the primitives that saving polls,
// clustering, reclustering and removing stories are made of. It is an
// interface so that the orchestration of those (which decides what to
// read, hands it to the clusterer and writes what that changed) is
// written once, above any backend, and a backend only provides these.
//
// A Tx is valid inside the function given to DB.WriteTx, on the goroutine
// that runs it. The writes of the clustering (memberships, pending marks,
// document frequencies, topic states and deletions) may be deferred: they
// return nil, or the error of an earlier deferred write. Every other
// method, and the commit, first waits for the deferred writes, and
// returns the first error among them as it is. A transaction that changed
// what is served (entries, topics, a feed's title) bumps the data version
// as it commits.
//
// A story's cluster.Document has its entry ID, in decimal, as its ID.
type Tx interface {
	// SavePoll records a poll: the feed's new state and its entries. New
	// entries are stored pending (see PendingDocs); it returns the edited
	// entries whose clustered words changed.
	SavePoll(ctx context.Context, r PollResult) (SaveStats, []Edit, error)
	// Feed returns a feed by ID or URL, or ErrNotFound.
	Feed(ctx context.Context, idOrURL string) (Feed, error)
	// DeleteFeed deletes a feed and its entries; DeleteEntries deletes
	// entries. Both return what of it the clustering had counted.
	DeleteFeed(ctx context.Context, id int64) (Removed, error)
	DeleteEntries(ctx context.Context, ids []int64) (Removed, error)

	// ClusterGeneration is the number every clustering write bumps (see
	// SaveClusterCounters): a clusterer loaded at another generation is
	// stale.
	ClusterGeneration(ctx context.Context) (int64, error)
	// LoadClusterState returns the counters, the document frequencies and
	// the topics a story joined within span of the clock: the clusterer's
	// resident topics.
	LoadClusterState(ctx context.Context, span time.Duration) (*cluster.State, error)
	// PendingDocs returns up to limit stories not clustered yet, oldest
	// first; AllDocs every stored story, oldest first.
	PendingDocs(ctx context.Context, limit int) ([]cluster.Document, error)
	AllDocs(ctx context.Context) ([]cluster.Document, error)
	// TopicDocs returns a topic's stories, oldest first.
	TopicDocs(ctx context.Context, topic int64) ([]cluster.Document, error)
	// TopicOf returns the topic of an entry; ok is false when it has none.
	TopicOf(ctx context.Context, entry int64) (topic int64, ok bool, err error)
	// TopicCount returns how many topics there are.
	TopicCount(ctx context.Context) (int, error)

	// Join records that an entry is in a topic, which may be written
	// later in the transaction.
	Join(ctx context.Context, entry, topic int64) error
	// MergeTopic moves the stories of topic from into topic to and
	// deletes from, whose ID (and the IDs that led to it) lead to to.
	MergeTopic(ctx context.Context, from, to int64) error
	// MoveEntries moves entries recorded in a topic into topic to.
	MoveEntries(ctx context.Context, entries []int64, to int64) error
	// MarkClustered takes an entry off the pending list.
	MarkClustered(ctx context.Context, entry int64) error
	// AddDocFreqs adds to the document frequencies (negative counts take
	// stories out); df must not change until the transaction ends.
	AddDocFreqs(ctx context.Context, df map[string]int64) error
	// SaveTopic writes a topic's state; its size is counted from its
	// stored members.
	SaveTopic(ctx context.Context, ts cluster.TopicState) error
	// DeleteTopic deletes a topic that has no stories left.
	DeleteTopic(ctx context.Context, id int64) error
	// SaveClusterCounters adds a batch's counters and bumps the
	// generation, which it returns.
	SaveClusterCounters(ctx context.Context, c ClusterCounters) (generation int64, err error)
	// BumpGeneration bumps the generation alone, so that other processes
	// drop their clusterer.
	BumpGeneration(ctx context.Context) error

	// ResetClustering starts a recluster: it deletes every topic,
	// membership, statistic and pending mark, keeping the old memberships
	// aside for KeepTopicIDs, and returns the last topic ID handed out,
	// after which the new topics are numbered.
	ResetClustering(ctx context.Context) (lastTopicID int64, err error)
	// KeepTopicIDs ends a recluster: every old topic ID (and alias) leads
	// to the new topic holding most of its stories.
	KeepTopicIDs(ctx context.Context) error
}

// Edit is an entry clustered before whose words a poll changed: Was is
// the version the clustering counted, Now the one stored now.
type Edit struct {
	EntryID int64
	Was     cluster.Document
	Now     cluster.Document
}

// Removed is what a deletion took out that the clustering had counted:
// the clustered stories, oldest first (pending ones were never counted),
// and the topics they were in, by ID.
type Removed struct {
	Stories []cluster.Document
	Topics  []int64
}

// ClusterCounters is what a batch of clustering adds to the counters.
type ClusterCounters struct {
	// Docs is added to the number of stories clustered (negative when
	// stories left).
	Docs int64
	// LastTopicID is the highest topic ID the clusterer handed out.
	LastTopicID int64
	// Clock is the latest story time of the topics the batch saved.
	Clock time.Time
}

// WriteTx runs fn in a write transaction of this process's one write
// path, and commits it if fn returns nil; otherwise, or when the commit
// fails, nothing of it is kept.
func (d *DB) WriteTx(ctx context.Context, fn func(Tx) error) error {
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

func (t *writeTx) SavePoll(ctx context.Context, r PollResult) (SaveStats, []Edit, error) {
	var st SaveStats
	if err := t.sync(); err != nil {
		return st, nil, err
	}
	edits, err := recordPoll(ctx, t.tx, r, &st)
	if err != nil {
		return st, nil, err
	}
	if st.changed() {
		t.changed = true
	}
	return st, edits, nil
}

func (t *writeTx) Feed(ctx context.Context, idOrURL string) (Feed, error) {
	if err := t.sync(); err != nil {
		return Feed{}, err
	}
	return findFeedByIDOrURL(ctx, t.tx, idOrURL)
}

func (t *writeTx) DeleteFeed(ctx context.Context, id int64) (Removed, error) {
	return t.deleteEntries(ctx, "e.feed_id = ?", []any{id}, "DELETE FROM feeds WHERE id = ?")
}

func (t *writeTx) DeleteEntries(ctx context.Context, ids []int64) (Removed, error) {
	list, err := jsonList(ids)
	if err != nil {
		return Removed{}, err
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
			t.buf = appendTopicState(t.buf[:0], ts)
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

func (t *writeTx) SaveClusterCounters(ctx context.Context, c ClusterCounters) (int64, error) {
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

// Memberships records a clusterer's assignments in tx (through
// cluster.Assignment.Apply): a story's Document.ID is its entry ID in
// decimal, as the Tx's documents are.
func Memberships(ctx context.Context, tx Tx) cluster.Memberships { return txMemberships{ctx, tx} }

type txMemberships struct {
	ctx context.Context
	tx  Tx
}

func (m txMemberships) Merge(from, to int64) error { return m.tx.MergeTopic(m.ctx, from, to) }

func (m txMemberships) Join(docID string, topic int64) error {
	id, err := EntryID(docID)
	if err != nil {
		return err
	}
	return m.tx.Join(m.ctx, id, topic)
}

func (m txMemberships) Move(docIDs []string, to int64) error {
	ids := make([]int64, len(docIDs))
	for i, d := range docIDs {
		id, err := EntryID(d)
		if err != nil {
			return err
		}
		ids[i] = id
	}
	return m.tx.MoveEntries(m.ctx, ids, to)
}

// EntryID is the entry of a story of a Tx (its Document.ID).
func EntryID(docID string) (int64, error) {
	id, err := strconv.ParseInt(docID, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("story %q is not an entry ID", docID)
	}
	return id, nil
}
