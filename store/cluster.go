package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/storyline/storyline/cluster"
)

// The clusterer lives in memory next to the database and is fed by the
// single writer. Its state is saved in the same transaction as the entries
// it clustered, so the two never disagree. cluster_meta.generation changes
// with every clustering write: a process whose generation differs from the
// file's (another process wrote, or our own transaction rolled back after
// the clusterer had moved on) reloads the state before clustering again.

// SetClusterConfig sets the clustering configuration used from now on. It
// takes effect for stories clustered later; Recluster applies it to all.
func (d *DB) SetClusterConfig(cfg cluster.Config) {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	d.clusterCfg = cfg
	d.clusterer, d.analyzer = nil, nil
}

// clusterState is the in-memory side of the clustering, guarded by writeMu.
type clusterState struct {
	clusterCfg cluster.Config
	clusterer  *cluster.Clusterer
	clusterGen int64
	// analyzer analyzes stories ahead of the clusterer (analyzeAhead).
	analyzer *cluster.Analyzer
	// pending is the clusterer of a transaction not yet committed.
	pending    *cluster.Clusterer
	pendingGen int64
	// failRecluster, set by tests, makes Recluster fail after n stories.
	failRecluster int
}

// ensureClusterer makes d.clusterer current with the database, inside the
// write transaction tx.
func (d *DB) ensureClusterer(ctx context.Context, tx *sql.Tx) error {
	var gen int64
	if err := tx.QueryRowContext(ctx, "SELECT generation FROM cluster_meta WHERE id = 1").Scan(&gen); err != nil {
		return fmt.Errorf("read cluster generation: %w", err)
	}
	if d.clusterer != nil && gen == d.clusterGen {
		return nil
	}
	cfg := d.config()
	st, err := loadClusterState(ctx, tx, cfg.Window+cfg.History)
	if err != nil {
		return err
	}
	d.clusterer = cluster.New(d.config(), st)
	d.clusterGen = gen
	return nil
}

func (d *DB) config() cluster.Config {
	if d.clusterCfg == (cluster.Config{}) {
		return cluster.DefaultConfig()
	}
	return d.clusterCfg
}

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
		ts, err := decodeTopicState(b)
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

// clusterBatch collects the topic states and statistics of a batch of
// Adds, so that each topic, each term and the counters are written once
// per batch, not once per story. Memberships are written at once (see
// clusterWriter): a split check reads them.
type clusterBatch struct {
	topics map[int64]cluster.TopicState
	df     map[string]int64
	docs   int64
}

func newClusterBatch() *clusterBatch {
	return &clusterBatch{topics: make(map[int64]cluster.TopicState), df: make(map[string]int64)}
}

// clusterWriter adds stories to the clusterer inside a write transaction:
// it writes each story's membership, and applies merges and splits to the
// stored memberships, as they happen (queued on q, in order), and reads
// the stories of a topic the clusterer asks to check for a split.
type clusterWriter struct {
	ctx                 context.Context
	tx                  *sql.Tx
	c                   *cluster.Clusterer
	insert, readMembers *sql.Stmt // the statements of every story; merges and splits are rare
	b                   *clusterBatch
	q                   *txQueue
}

// newClusterWriter starts a writer on tx. Until its close, tx is written
// through w.q: a caller that uses tx directly syncs w.q first.
func newClusterWriter(ctx context.Context, tx *sql.Tx, c *cluster.Clusterer) (*clusterWriter, error) {
	w := &clusterWriter{ctx: ctx, tx: tx, c: c, b: newClusterBatch()}
	// A story's membership is written before its new topic's row, which
	// is written once per batch: the reference is checked at commit.
	if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&w.insert, "INSERT INTO topic_entries (entry_id, topic_id) VALUES (?, ?)"},
		{&w.readMembers, topicDocsQuery},
	} {
		st, err := tx.PrepareContext(ctx, p.q)
		if err != nil {
			w.close()
			return nil, err
		}
		*p.st = st
	}
	w.q = newTxQueue()
	return w, nil
}

// close waits for the queued writes (whose error the caller has had from
// a sync, or rolls back anyway) and releases the statements.
func (w *clusterWriter) close() {
	w.q.close()
	for _, st := range []*sql.Stmt{w.insert, w.readMembers} {
		if st != nil {
			st.Close()
		}
	}
}

// members reads a topic's stored stories, after the queued writes.
func (w *clusterWriter) members(topicID int64) ([]cluster.Document, error) {
	if err := w.q.sync(); err != nil {
		// A queued write failed: that is the error, not this read.
		return nil, err
	}
	docs, err := scanDocs(w.readMembers.QueryContext(w.ctx, topicID))
	if err != nil {
		return nil, fmt.Errorf("read the stories of topic %d: %w", topicID, err)
	}
	return documents(docs), nil
}

// documents returns the clusterer's side of stored documents.
func documents(docs []storedDoc) []cluster.Document {
	out := make([]cluster.Document, len(docs))
	for i, x := range docs {
		out[i] = x.doc
	}
	return out
}

// add clusters one stored entry, analyzed already, and queues the writes
// of what that changed.
func (w *clusterWriter) add(x cluster.Analyzed) (cluster.Assignment, error) {
	a := w.c.AddAnalyzed(x)
	if a.SplitCheck != 0 {
		members, err := w.members(a.SplitCheck)
		if err != nil {
			return a, err
		}
		a = w.c.CheckSplit(members)
	}
	b := w.b
	for _, m := range a.Merged {
		delete(b.topics, m)
	}
	for _, t := range a.DocFreqTerms {
		b.df[t]++
	}
	b.docs++
	return a, a.Apply(w)
}

// Merge queues the move of a merged topic's stories (cluster.Memberships).
func (w *clusterWriter) Merge(from, to int64) error {
	ctx, tx := w.ctx, w.tx
	return w.q.do(func() error {
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
			if _, err := tx.ExecContext(ctx, q, to, from); err != nil {
				return fmt.Errorf("merge topic %d into %d: %w", from, to, err)
			}
		}
		return nil
	})
}

// Join queues a story's membership (cluster.Memberships).
func (w *clusterWriter) Join(docID string, topic int64) error {
	id, err := strconv.ParseInt(docID, 10, 64)
	if err != nil {
		return fmt.Errorf("story %q is not an entry ID", docID)
	}
	return w.q.do(func() error {
		if _, err := w.insert.ExecContext(w.ctx, id, topic); err != nil {
			return fmt.Errorf("add entry %d to topic %d: %w", id, topic, err)
		}
		return nil
	})
}

// Move queues a split's moves (cluster.Memberships).
func (w *clusterWriter) Move(docIDs []string, to int64) error {
	ctx, tx := w.ctx, w.tx
	return w.q.do(func() error {
		for _, id := range docIDs {
			if _, err := tx.ExecContext(ctx, "UPDATE topic_entries SET topic_id = ? WHERE entry_id = ?", to, id); err != nil {
				return fmt.Errorf("split: move entry %s to topic %d: %w", id, to, err)
			}
		}
		return nil
	})
}

// clusterChunk is how many pending stories ClusterPending clusters per
// transaction: large enough that a topic's state, written once per
// transaction, is written once for many stories; small enough that the
// stories read at once stay a few megabytes.
const clusterChunk = 4096

// ClusterPending clusters the stored entries that are not clustered yet
// (see SavePolls), in time order, oldest first, and saves the result, in
// transactions of clusterChunk stories. It returns how many it clustered.
// When ctx ends, the transaction in progress is rolled back: what it and
// the rest would have clustered stays pending for the next call, and what
// earlier transactions committed stays.
func (d *DB) ClusterPending(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := d.clusterPendingChunk(ctx)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: cluster new stories: %w", err)
		}
		if n < clusterChunk {
			return total, nil
		}
	}
}

func (d *DB) clusterPendingChunk(ctx context.Context) (n int, err error) {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	defer func() {
		if err != nil {
			d.abortCluster()
		}
	}()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	docs, err := queryDocs(ctx, tx, "SELECT "+docColumns+` FROM pending_entries p JOIN entries e ON e.id = p.entry_id
		ORDER BY e.published_at, e.id LIMIT ?`, clusterChunk)
	if err != nil || len(docs) == 0 {
		return 0, err
	}
	if err := d.ensureClusterer(ctx, tx); err != nil {
		return 0, err
	}
	done, err := tx.PrepareContext(ctx, "DELETE FROM pending_entries WHERE entry_id = ?")
	if err != nil {
		return 0, err
	}
	defer done.Close() // after w.close, which waits for the queued writes
	w, err := newClusterWriter(ctx, tx, d.clusterer)
	if err != nil {
		return 0, err
	}
	defer w.close()
	next, wait := d.analyzeAhead(ctx, docs)
	defer wait()
	for _, x := range docs {
		an, err := next()
		if err != nil {
			return 0, err
		}
		if _, err := w.add(an); err != nil {
			return 0, err
		}
		id := x.id
		if err := w.q.do(func() error {
			_, err := done.ExecContext(ctx, id)
			return err
		}); err != nil {
			return 0, err
		}
	}
	if err := d.saveClusterBatch(ctx, tx, w.b, w.q); err != nil {
		return 0, err
	}
	if err := d.bumpDataVersion(ctx, tx); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	d.publishDataVersion(tx)
	d.commitCluster()
	return len(docs), nil
}

// analyzeAhead analyzes docs, in order, on a goroutine of its own, so that
// the analysis of the next stories (a fifth of the clustering's work) runs
// on another core while the clusterer assigns this one. next returns the
// next story's analysis, or ctx's error once it ended; wait stops the
// goroutine and waits for it, and must be called before the store's
// analyzer is used again.
func (d *DB) analyzeAhead(ctx context.Context, docs []storedDoc) (next func() (cluster.Analyzed, error), wait func()) {
	if d.analyzer == nil {
		d.analyzer = cluster.NewAnalyzer(d.config())
	}
	an := d.analyzer
	ctx, stop := context.WithCancel(ctx)
	ready := make(chan cluster.Analyzed, 64)
	go func() {
		defer close(ready)
		for _, x := range docs {
			select {
			case ready <- an.Analyze(x.doc):
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() (cluster.Analyzed, error) {
			x, ok := <-ready
			if !ok {
				return x, ctx.Err()
			}
			return x, nil
		}, func() {
			stop()
			for range ready {
			}
		}
}

// clusterEdits brings the clustering up to date with edited stories that
// were clustered before (a pending one is clustered as it is when its
// turn comes): the statistics follow the edit, so that they keep counting
// the stored words, and the story stays in its topic, which is rebuilt.
func (d *DB) clusterEdits(ctx context.Context, tx *sql.Tx, edits []addedEntry) error {
	if len(edits) == 0 {
		return nil
	}
	if err := d.ensureClusterer(ctx, tx); err != nil {
		return err
	}
	w, err := newClusterWriter(ctx, tx, d.clusterer)
	if err != nil {
		return err
	}
	defer w.close()
	ids := make([]int64, len(edits))
	for i, a := range edits {
		doc := cluster.Document{
			ID: fmt.Sprint(a.id), Title: a.entry.Title, Text: a.entry.Text,
			Link: a.entry.Link, Language: a.lang, Time: fromMS(a.published),
		}
		for _, t := range w.c.Forget(*a.was) {
			w.b.df[t]--
		}
		for _, t := range w.c.Count(doc) {
			w.b.df[t]++
		}
		ids[i] = a.id
	}
	if err := w.rebuildTopicsOf(ids); err != nil {
		return err
	}
	return d.saveClusterBatch(ctx, tx, w.b, w.q)
}

// rebuildTopicsOf rebuilds the topics of edited entries from their stories
// as now stored (after this batch's new ones joined), so that a corrected
// headline or a rewritten story changes its topic's centroid, name and
// representative headline as it would have had it arrived that way.
func (w *clusterWriter) rebuildTopicsOf(entries []int64) error {
	if err := w.q.sync(); err != nil {
		return err
	}
	var topics []int64
	for _, id := range entries {
		var tid int64
		err := w.tx.QueryRowContext(w.ctx, "SELECT topic_id FROM topic_entries WHERE entry_id = ?", id).Scan(&tid)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue // stored before clustering existed: recluster places it
		case err != nil:
			return fmt.Errorf("find the topic of edited entry %d: %w", id, err)
		}
		if !slices.Contains(topics, tid) {
			topics = append(topics, tid)
		}
	}
	slices.Sort(topics)
	return rebuildTopics(w.ctx, w.tx, w.c, w.b, topics)
}

// rebuildTopics rebuilds each topic from its stories as stored now
// (cluster.Rebuild) into b, keeping its ID, and deletes a topic that has no
// stories left.
func rebuildTopics(ctx context.Context, tx *sql.Tx, c *cluster.Clusterer, b *clusterBatch, topics []int64) error {
	for _, tid := range topics {
		docs, err := queryDocs(ctx, tx, topicDocsQuery, tid)
		if err != nil {
			return fmt.Errorf("read topic %d: %w", tid, err)
		}
		ts, ok := c.Rebuild(tid, documents(docs))
		if !ok {
			if _, err := tx.ExecContext(ctx, "DELETE FROM topics WHERE id = ?", tid); err != nil {
				return fmt.Errorf("delete topic %d: %w", tid, err)
			}
			continue
		}
		b.topics[tid] = ts
	}
	return nil
}

// saveClusterBatch writes a batch and bumps the generation, through q when
// it is not nil (the writes queued before come first). The clusterer is
// set aside until the transaction commits (see commitCluster): if it rolls
// back instead, the next write reloads the state from the database.
func (d *DB) saveClusterBatch(ctx context.Context, tx *sql.Tx, b *clusterBatch, q *txQueue) error {
	c := d.clusterer
	d.clusterer = nil
	err := q.do(func() error {
		if err := upsertTermStats(ctx, tx, b.df); err != nil {
			return err
		}
		for _, n := range b.df {
			if n < 0 {
				if _, err := tx.ExecContext(ctx, "DELETE FROM term_stats WHERE df <= 0"); err != nil {
					return fmt.Errorf("update term statistics: %w", err)
				}
				break
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The writes below use tw from the queue's goroutine, in order; it is
	// read here only after q.sync.
	var tw *topicWriter
	if err := q.do(func() (err error) {
		tw, err = newTopicWriter(ctx, tx)
		return err
	}); err != nil {
		return err
	}
	defer func() {
		if q.sync() == nil {
			tw.close()
		}
	}()
	ids := slices.Sorted(maps.Keys(b.topics))
	for _, id := range ids {
		ts := b.topics[id]
		if err := q.do(func() error { return tw.save(ts) }); err != nil {
			return err
		}
	}
	// The topics the batch changed, each saved once, its state made here
	// and encoded as it is written (a batch's states at once would be tens
	// of megabytes; the queue holds a few hundred). A closed topic that was
	// rebuilt is newer in b.
	err = c.Changed(func(ts cluster.TopicState) error {
		if _, ok := b.topics[ts.ID]; ok {
			return nil
		}
		return q.do(func() error { return tw.save(ts) })
	})
	if err == nil {
		err = q.sync()
	}
	if err != nil {
		return err
	}
	var gen int64
	if err := tx.QueryRowContext(ctx, `UPDATE cluster_meta SET docs = MAX(docs + ?, 0),
		last_topic_id = MAX(last_topic_id, ?), clock = MAX(clock, ?), generation = generation + 1,
		analyzer = CASE WHEN analyzer = 0 THEN ? ELSE analyzer END
		WHERE id = 1 RETURNING generation`, b.docs, c.LastTopicID(), ms(tw.clock), cluster.AnalyzerVersion).Scan(&gen); err != nil {
		return fmt.Errorf("update cluster counters: %w", err)
	}
	d.pending = c
	d.pendingGen = gen
	return nil
}

// commitCluster is called after a successful commit: the clusterer that
// produced the committed state becomes current again.
func (d *DB) commitCluster() {
	if d.pending != nil {
		d.clusterer, d.clusterGen = d.pending, d.pendingGen
	}
	d.pending = nil
}

// abortCluster is called when a write transaction fails.
func (d *DB) abortCluster() {
	d.pending = nil
	d.clusterer = nil
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

// topicWriter writes topic states. A topic's size is counted from its
// stored members (an index range count), which is what readers see,
// whatever a topic state written by an older version says. clock is the
// latest story time of the topics written.
type topicWriter struct {
	ctx   context.Context
	st    *sql.Stmt
	clock time.Time
	// buf holds each state's encoding (topicstate.go), reused from one
	// topic to the next (SQLite copies the bytes it is given): a fresh
	// slice per state was a tenth of a cold import's garbage.
	buf []byte
}

func newTopicWriter(ctx context.Context, tx *sql.Tx) (*topicWriter, error) {
	st, err := tx.PrepareContext(ctx, `INSERT INTO topics (id, name, headline, first_seen_at, last_seen_at, kept_at, size, state)
		VALUES (?, ?, ?, ?, ?, ?, (SELECT COUNT(*) FROM topic_entries WHERE topic_id = ?), ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, headline = excluded.headline,
			first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,
			kept_at = excluded.kept_at, size = excluded.size, state = excluded.state`)
	if err != nil {
		return nil, err
	}
	return &topicWriter{ctx: ctx, st: st}, nil
}

func (tw *topicWriter) save(ts cluster.TopicState) error {
	tw.buf = appendTopicState(tw.buf[:0], ts)
	if _, err := tw.st.ExecContext(tw.ctx, ts.ID, ts.Label, ts.Headline, ms(ts.First), ms(ts.Last),
		max(ms(ts.Kept), ms(ts.Last)), ts.ID, tw.buf); err != nil {
		return fmt.Errorf("save topic %d: %w", ts.ID, err)
	}
	if ts.Last.After(tw.clock) {
		tw.clock = ts.Last
	}
	return nil
}

func (tw *topicWriter) close() { tw.st.Close() }

var errInjected = errors.New("store: injected failure")

// docColumns are the columns queryDocs reads, and topicDocsQuery a topic's
// stories in time order, the order in which they are clustered.
const (
	docColumns     = "e.id, e.title, e.text, e.link, e.language, e.published_at"
	topicDocsQuery = "SELECT " + docColumns + ` FROM topic_entries te JOIN entries e ON e.id = te.entry_id
		WHERE te.topic_id = ? ORDER BY e.published_at, e.id`
)

// storedDoc is an entry as the clusterer sees it.
type storedDoc struct {
	id  int64
	doc cluster.Document
}

// queryDocs reads entries as documents; the query selects docColumns. The rows are read to the end before
// returning, so the caller may write in the same transaction next.
func queryDocs(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]storedDoc, error) {
	return scanDocs(tx.QueryContext(ctx, query, args...))
}

func scanDocs(rows *sql.Rows, err error) ([]storedDoc, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var docs []storedDoc
	for rows.Next() {
		var x storedDoc
		var pub int64
		if err := rows.Scan(&x.id, &x.doc.Title, &x.doc.Text, &x.doc.Link, &x.doc.Language, &pub); err != nil {
			return nil, err
		}
		x.doc.ID, x.doc.Time = fmt.Sprint(x.id), fromMS(pub)
		docs = append(docs, x)
	}
	return docs, rows.Err()
}
