package store

import (
	"context"
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
	// stale. A transaction that clusters calls it before it reads or
	// writes any clustering state; a backend that several processes write
	// at once makes such a transaction, from that call on, the only one
	// clustering until it ends, so that the generation read stays true.
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
