package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/codec"
)

// WriteTx runs fn in a write transaction of this process's one write
// path, and commits it if fn returns nil; otherwise, or when the commit
// fails, nothing of it is kept.
//
// The clustering's reads and writes in it (ClusterGeneration, PendingDocs,
// Join...) first take a transaction-level advisory lock, so that the
// clustering transactions of all instances run one after another even if
// two instances believe they are the clusterer (one whose ClusterLock
// connection died a moment ago): the second then finds the generation
// moved and reloads the state, rather than both adding to one topic.
func (d *DB) WriteTx(ctx context.Context, fn func(store.Tx) error) error {
	return d.writeFunc(ctx, func(tx pgx.Tx) (bool, error) {
		t := &writeTx{tx: tx, ctx: ctx}
		if err := fn(t); err != nil {
			return false, err
		}
		// The deferred writes, and the first of them that failed.
		if err := t.flush(); err != nil {
			return false, err
		}
		return t.changed, nil
	})
}

// maxDeferred bounds the deferred writes queued before they are sent: a
// recluster of a whole archive must not hold them all in memory.
const maxDeferred = 4096

// writeTx is the PostgreSQL store.Tx. Its deferred writes are queued in a
// batch and sent in one round trip when a read or the commit needs them
// (or the batch is full): a clustering batch writes a membership and a
// pending mark per story, and a round trip each would dominate its cost.
type writeTx struct {
	tx  pgx.Tx
	ctx context.Context // WriteTx's, for flushes started by a deferred write

	batch  pgx.Batch
	labels []deferredLabel // what each queued write does, for its error
	err    error           // the first deferred write that failed

	// changed is set by a write a reader sees: the commit bumps the data
	// version.
	changed bool
	// clusterLocked is set once the transaction holds clusterTxLockKey.
	clusterLocked bool

	// joins and clustered hold the memberships (entry, topic) and pending
	// marks to end that Join and MarkClustered queued, one of each per
	// story: they go to the batch as one set-based statement each, before
	// any other deferred write (which may move the members they add) and
	// at a flush. Thousands of one-row statements cost more than the
	// clustering they record.
	joinEntries, joinTopics, clustered []int64
}

// queueStories moves the queued memberships and pending marks into the
// batch.
func (t *writeTx) queueStories() {
	if n := len(t.joinEntries); n > 0 {
		label := deferredLabel{"add entry %d to topic %d", t.joinEntries[0], t.joinTopics[0]}
		if n > 1 {
			label = deferredLabel{format: fmt.Sprintf("add %d entries to their topics, from entry %d to topic %d", n, t.joinEntries[0], t.joinTopics[0])}
		}
		t.batch.Queue("INSERT INTO topic_entries (entry_id, topic_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])", t.joinEntries, t.joinTopics)
		t.labels = append(t.labels, label)
		t.joinEntries, t.joinTopics = nil, nil
	}
	if len(t.clustered) > 0 {
		t.batch.Queue("DELETE FROM pending_entries WHERE entry_id = ANY($1)", t.clustered)
		t.labels = append(t.labels, deferredLabel{format: "take clustered entries off the pending list"})
		t.clustered = nil
	}
}

// deferredLabel names a deferred write in its error, formatted only when
// it failed.
type deferredLabel struct {
	format string
	a, b   int64
}

func (l deferredLabel) String() string {
	switch strings.Count(l.format, "%d") {
	case 0:
		return l.format
	case 1:
		return fmt.Sprintf(l.format, l.a)
	}
	return fmt.Sprintf(l.format, l.a, l.b)
}

// later queues a deferred write. It returns the error of an earlier one,
// if any failed.
func (t *writeTx) later(label deferredLabel, sql string, args ...any) error {
	if t.err != nil {
		return t.err
	}
	t.queueStories()
	t.batch.Queue(sql, args...)
	t.labels = append(t.labels, label)
	if t.batch.Len() >= maxDeferred {
		return t.flush()
	}
	return nil
}

// flush sends the queued writes and waits for them; it returns the first
// failure among them (then and at every later call), wrapped in what the
// write did.
func (t *writeTx) flush() error {
	if t.err == nil {
		t.queueStories()
	}
	if t.err != nil || t.batch.Len() == 0 {
		return t.err
	}
	b, labels := t.batch, t.labels
	t.batch, t.labels = pgx.Batch{}, t.labels[:0:0]
	br := t.tx.SendBatch(t.ctx, &b)
	for _, l := range labels {
		if _, err := br.Exec(); err != nil {
			if l.format != "" {
				err = fmt.Errorf("%s: %w", l, err)
			}
			t.err = err
			break
		}
	}
	if err := br.Close(); err != nil && t.err == nil {
		t.err = err
	}
	return t.err
}

// clustering waits for the deferred writes and makes sure the transaction
// holds the clustering lock (see WriteTx).
func (t *writeTx) clustering(ctx context.Context) error {
	if err := t.flush(); err != nil {
		return err
	}
	if t.clusterLocked {
		return nil
	}
	if _, err := t.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", clusterTxLockKey); err != nil {
		return fmt.Errorf("wait for the clustering of other instances: %w", err)
	}
	t.clusterLocked = true
	return nil
}

func (t *writeTx) SavePoll(ctx context.Context, r store.PollResult) (store.SaveStats, []store.Edit, error) {
	var st store.SaveStats
	if err := t.flush(); err != nil {
		return st, nil, err
	}
	edits, err := recordPoll(ctx, t.tx, r, &st)
	if err != nil {
		return st, nil, err
	}
	if st.Changed() {
		t.changed = true
	}
	return st, edits, nil
}

// Feed locks the feed's row to the end of the transaction: a transaction
// that reads a feed to remove it then takes the feed before the
// clustering lock, in the order a poll's save with edits does, and the
// two wait for each other instead of deadlocking.
func (t *writeTx) Feed(ctx context.Context, idOrURL string) (store.Feed, error) {
	if err := t.flush(); err != nil {
		return store.Feed{}, err
	}
	return findFeedByIDOrURL(ctx, t.tx, idOrURL, "FOR UPDATE")
}

func (t *writeTx) DeleteFeed(ctx context.Context, id int64) (store.Removed, error) {
	return t.deleteEntries(ctx, "e.feed_id = $1", id, "DELETE FROM feeds WHERE id = $1")
}

func (t *writeTx) DeleteEntries(ctx context.Context, ids []int64) (store.Removed, error) {
	return t.deleteEntries(ctx, "e.id = ANY($1)", ids, "DELETE FROM entries WHERE id = ANY($1)")
}

// deleteEntries deletes, with del, the entries matching cond (on entries
// e; arg is the $1 of both) and returns what of them the clustering
// counted: the stories not pending, and their topics.
func (t *writeTx) deleteEntries(ctx context.Context, cond string, arg any, del string) (store.Removed, error) {
	var r store.Removed
	// The rows first, then the clustering lock: a poll that edits one of
	// these entries takes them in that order too (it updates the row,
	// then clusters the edit), so the two wait for each other instead of
	// deadlocking.
	if err := t.flush(); err != nil {
		return r, err
	}
	if _, err := t.tx.Exec(ctx, "SELECT 1 FROM entries e WHERE "+cond+" ORDER BY e.id FOR UPDATE", arg); err != nil {
		return r, fmt.Errorf("lock the entries: %w", err)
	}
	if err := t.clustering(ctx); err != nil {
		return r, err
	}
	// Pending stories were never counted: they leave without a trace.
	gone, err := queryDocs(ctx, t.tx, "SELECT "+docColumns+` FROM entries e WHERE `+cond+`
		AND NOT EXISTS (SELECT 1 FROM pending_entries p WHERE p.entry_id = e.id) ORDER BY e.published_at, e.id`, arg)
	if err != nil {
		return r, fmt.Errorf("read the entries: %w", err)
	}
	r.Stories = gone
	rows, err := t.tx.Query(ctx, `SELECT DISTINCT te.topic_id FROM topic_entries te
		JOIN entries e ON e.id = te.entry_id WHERE `+cond+` ORDER BY te.topic_id`, arg)
	if err == nil {
		r.Topics, err = collect(rows, pgx.RowTo[int64])
	}
	if err != nil {
		return r, fmt.Errorf("read the entries' topics: %w", err)
	}
	tag, err := t.tx.Exec(ctx, del, arg)
	if err != nil {
		return r, err
	}
	// A deletion that found nothing (another instance pruned first)
	// changes nothing a reader sees.
	t.changed = t.changed || tag.RowsAffected() > 0
	return r, nil
}

func (t *writeTx) ClusterGeneration(ctx context.Context) (int64, error) {
	if err := t.clustering(ctx); err != nil {
		return 0, err
	}
	var gen int64
	if err := t.tx.QueryRow(ctx, "SELECT generation FROM cluster_meta WHERE id = 1").Scan(&gen); err != nil {
		return 0, fmt.Errorf("read cluster generation: %w", err)
	}
	return gen, nil
}

func (t *writeTx) LoadClusterState(ctx context.Context, span time.Duration) (*cluster.State, error) {
	if err := t.clustering(ctx); err != nil {
		return nil, err
	}
	st := &cluster.State{DocFreq: make(map[string]int64)}
	var clock int64
	if err := t.tx.QueryRow(ctx, "SELECT docs, last_topic_id, clock FROM cluster_meta WHERE id = 1").
		Scan(&st.Docs, &st.LastTopicID, &clock); err != nil {
		return nil, fmt.Errorf("load cluster state: %w", err)
	}
	st.Clock = fromMS(clock)
	rows, err := t.tx.Query(ctx, "SELECT term, df FROM term_stats")
	if err != nil {
		return nil, fmt.Errorf("load term statistics: %w", err)
	}
	var term string
	var df int64
	if _, err := pgx.ForEachRow(rows, []any{&term, &df}, func() error {
		st.DocFreq[term] = df
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load term statistics: %w", err)
	}
	// Only the topics inside the window can still grow, and those out of
	// it for less than History can take late stories.
	rows, err = t.tx.Query(ctx, "SELECT id, state FROM topics WHERE kept_at >= $1 ORDER BY id", clock-span.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("load open topics: %w", err)
	}
	var id int64
	var b []byte
	if _, err := pgx.ForEachRow(rows, []any{&id, &b}, func() error {
		ts, err := codec.DecodeTopicState(b)
		if err != nil {
			return fmt.Errorf("topic %d: corrupt state: %w", id, err)
		}
		st.Topics = append(st.Topics, ts)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load open topics: %w", err)
	}
	return st, nil
}

// docColumns are the columns queryDocs reads.
const docColumns = "e.id, e.title, e.text, e.link, e.language, e.published_at"

// queryDocs reads entries as the clusterer's documents; the query selects
// docColumns.
func queryDocs(ctx context.Context, q querier, query string, args ...any) ([]cluster.Document, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r pgx.CollectableRow) (cluster.Document, error) {
		var d cluster.Document
		var id, pub int64
		err := r.Scan(&id, &d.Title, &d.Text, &d.Link, &d.Language, &pub)
		d.ID, d.Time = fmt.Sprint(id), fromMS(pub)
		return d, err
	})
}

func (t *writeTx) PendingDocs(ctx context.Context, limit int) ([]cluster.Document, error) {
	if err := t.clustering(ctx); err != nil {
		return nil, err
	}
	// The pending marks read stay locked to the end of the transaction: a
	// poll saving an edit to one of these stories meanwhile (another
	// instance's) waits, then finds it clustered and hands the edit to the
	// clustering, rather than changing its words unseen. One such save
	// in progress is skipped, not waited for: its story comes next time.
	return queryDocs(ctx, t.tx, "SELECT "+docColumns+` FROM pending_entries p JOIN entries e ON e.id = p.entry_id
		ORDER BY e.published_at, e.id LIMIT $1 FOR UPDATE OF p SKIP LOCKED`, limit)
}

func (t *writeTx) AllDocs(ctx context.Context) ([]cluster.Document, error) {
	if err := t.clustering(ctx); err != nil {
		return nil, err
	}
	return queryDocs(ctx, t.tx, "SELECT "+docColumns+" FROM entries e ORDER BY e.published_at, e.id")
}

func (t *writeTx) TopicDocs(ctx context.Context, topic int64) ([]cluster.Document, error) {
	if err := t.clustering(ctx); err != nil {
		// A deferred write failed: that is the error, not this read.
		return nil, err
	}
	docs, err := queryDocs(ctx, t.tx, "SELECT "+docColumns+` FROM topic_entries te JOIN entries e ON e.id = te.entry_id
		WHERE te.topic_id = $1 ORDER BY e.published_at, e.id`, topic)
	if err != nil {
		return nil, fmt.Errorf("read the stories of topic %d: %w", topic, err)
	}
	return docs, nil
}

func (t *writeTx) TopicOf(ctx context.Context, entry int64) (int64, bool, error) {
	if err := t.clustering(ctx); err != nil {
		return 0, false, err
	}
	var topic int64
	err := t.tx.QueryRow(ctx, "SELECT topic_id FROM topic_entries WHERE entry_id = $1", entry).Scan(&topic)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return topic, true, nil
}

func (t *writeTx) TopicCount(ctx context.Context) (int, error) {
	if err := t.clustering(ctx); err != nil {
		return 0, err
	}
	var n int
	err := t.tx.QueryRow(ctx, "SELECT COUNT(*) FROM topics").Scan(&n)
	return n, err
}

func (t *writeTx) Join(ctx context.Context, entry, topic int64) error {
	t.changed = true
	if t.err != nil {
		return t.err
	}
	t.joinEntries, t.joinTopics = append(t.joinEntries, entry), append(t.joinTopics, topic)
	if len(t.joinEntries) >= maxDeferred {
		return t.flush()
	}
	return nil
}

func (t *writeTx) MergeTopic(ctx context.Context, from, to int64) error {
	t.changed = true
	// The merged topic's ID, and the IDs that already led to it, lead to
	// the surviving topic from now on. The alias goes in before the topic
	// goes, which would take the aliases pointing at it along.
	label := deferredLabel{"merge topic %d into %d", from, to}
	for _, q := range []string{
		"UPDATE topic_entries SET topic_id = $1 WHERE topic_id = $2",
		"UPDATE topic_aliases SET topic_id = $1 WHERE topic_id = $2",
		"INSERT INTO topic_aliases (id, topic_id) VALUES ($2, $1)",
	} {
		if err := t.later(label, q, to, from); err != nil {
			return err
		}
	}
	return t.later(label, "DELETE FROM topics WHERE id = $1", from)
}

func (t *writeTx) MoveEntries(ctx context.Context, entries []int64, to int64) error {
	t.changed = true
	return t.later(deferredLabel{"split: move entries to topic %d", to, 0},
		"UPDATE topic_entries SET topic_id = $1 WHERE entry_id = ANY($2)", to, append([]int64(nil), entries...))
}

func (t *writeTx) MarkClustered(ctx context.Context, entry int64) error {
	if t.err != nil {
		return t.err
	}
	t.clustered = append(t.clustered, entry)
	if len(t.clustered) >= maxDeferred {
		return t.flush()
	}
	return nil
}

func (t *writeTx) AddDocFreqs(ctx context.Context, df map[string]int64) error {
	if len(df) == 0 {
		return t.err
	}
	// Sorted, so that two transactions (a clusterer and a stray one) lock
	// the rows in one order.
	terms := make([]string, 0, len(df))
	for term := range df {
		terms = append(terms, term)
	}
	sort.Strings(terms)
	counts := make([]int64, len(terms))
	negative := false
	for i, term := range terms {
		counts[i] = df[term]
		negative = negative || counts[i] < 0
	}
	label := deferredLabel{format: "update term statistics"}
	if err := t.later(label, `INSERT INTO term_stats (term, df) SELECT * FROM unnest($1::text[], $2::bigint[])
		ON CONFLICT (term) DO UPDATE SET df = term_stats.df + excluded.df`, terms, counts); err != nil {
		return err
	}
	if negative {
		return t.later(label, "DELETE FROM term_stats WHERE term = ANY($1) AND df <= 0", terms)
	}
	return nil
}

// saveTopicQuery writes a topic state; its size is counted from its
// stored members, which are written before it in the batch.
const saveTopicQuery = `INSERT INTO topics (id, name, headline, first_seen_at, last_seen_at, kept_at, size, state)
	VALUES ($1, $2, $3, $4, $5, $6, (SELECT COUNT(*) FROM topic_entries WHERE topic_id = $1), $7)
	ON CONFLICT (id) DO UPDATE SET name = excluded.name, headline = excluded.headline,
		first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,
		kept_at = excluded.kept_at, size = excluded.size, state = excluded.state`

func (t *writeTx) SaveTopic(ctx context.Context, ts cluster.TopicState) error {
	t.changed = true
	// A state of its own: the batch holds it until it is sent.
	state := codec.AppendTopicState(nil, ts)
	return t.later(deferredLabel{"save topic %d", ts.ID, 0}, saveTopicQuery,
		ts.ID, ts.Label, ts.Headline, ms(ts.First), ms(ts.Last), max(ms(ts.Kept), ms(ts.Last)), state)
}

func (t *writeTx) DeleteTopic(ctx context.Context, id int64) error {
	t.changed = true
	return t.later(deferredLabel{"delete topic %d", id, 0}, "DELETE FROM topics WHERE id = $1", id)
}

func (t *writeTx) SaveClusterCounters(ctx context.Context, c store.ClusterCounters) (int64, error) {
	if err := t.clustering(ctx); err != nil {
		return 0, err
	}
	var gen int64
	if err := t.tx.QueryRow(ctx, `UPDATE cluster_meta SET docs = GREATEST(docs + $1, 0),
		last_topic_id = GREATEST(last_topic_id, $2), clock = GREATEST(clock, $3), generation = generation + 1,
		analyzer = CASE WHEN analyzer = 0 THEN $4 ELSE analyzer END
		WHERE id = 1 RETURNING generation`, c.Docs, c.LastTopicID, ms(c.Clock), cluster.AnalyzerVersion).Scan(&gen); err != nil {
		return 0, fmt.Errorf("update cluster counters: %w", err)
	}
	return gen, nil
}

func (t *writeTx) BumpGeneration(ctx context.Context) error {
	if err := t.clustering(ctx); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, "UPDATE cluster_meta SET generation = generation + 1 WHERE id = 1")
	return err
}

func (t *writeTx) ResetClustering(ctx context.Context) (int64, error) {
	if err := t.clustering(ctx); err != nil {
		return 0, err
	}
	t.changed = true
	var lastID int64
	if err := t.tx.QueryRow(ctx, "SELECT last_topic_id FROM cluster_meta WHERE id = 1").Scan(&lastID); err != nil {
		return 0, err
	}
	for _, q := range []string{
		// Kept until the new topics exist (KeepTopicIDs); they go with the
		// transaction in any case.
		"CREATE TEMP TABLE old_topic_entries ON COMMIT DROP AS SELECT entry_id, topic_id FROM topic_entries",
		"CREATE TEMP TABLE old_topic_aliases ON COMMIT DROP AS SELECT id, topic_id FROM topic_aliases",
		// DELETE rather than TRUNCATE, which would lock out the readers
		// of the other instances until the recluster commits.
		"DELETE FROM topic_entries", "DELETE FROM topic_aliases", "DELETE FROM topics",
		"DELETE FROM term_stats", "DELETE FROM pending_entries",
		"UPDATE cluster_meta SET docs = 0, clock = 0, analyzer = 0 WHERE id = 1",
	} {
		// The temporary tables are new in every recluster: no statement
		// about them is prepared and cached.
		if _, err := t.tx.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
			return 0, err
		}
	}
	return lastID, nil
}

func (t *writeTx) KeepTopicIDs(ctx context.Context) error {
	if err := t.clustering(ctx); err != nil {
		return err
	}
	// Every topic ID of the replaced clustering (topics and their
	// aliases) leads to the new topic holding most of its stories, the
	// lowest ID on a tie; an old topic none of whose stories remain gets
	// no alias.
	for _, q := range []string{
		`WITH votes AS (
			SELECT o.topic_id AS old, n.topic_id AS new, COUNT(*) AS n
			FROM old_topic_entries o JOIN topic_entries n ON n.entry_id = o.entry_id
			GROUP BY o.topic_id, n.topic_id
		), best AS (
			SELECT old, new FROM (
				SELECT old, new, ROW_NUMBER() OVER (PARTITION BY old ORDER BY n DESC, new) AS rank
				FROM votes) ranked
			WHERE rank = 1
		)
		INSERT INTO topic_aliases (id, topic_id)
		SELECT old, new FROM best
		UNION ALL
		SELECT a.id, b.new FROM old_topic_aliases a JOIN best b ON b.old = a.topic_id`,
		"DROP TABLE old_topic_entries", "DROP TABLE old_topic_aliases",
	} {
		if _, err := t.tx.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("keep old topic IDs: %w", err)
		}
	}
	return nil
}
