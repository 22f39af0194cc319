package store

import (
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/storyline/storyline/feeds"
)

// Export is a whole install as streams of records, for `storyline
// migrate`: one backend's Export reads them from one consistent snapshot
// and another backend's Import writes them, so that each backend knows
// only its own tables. The streams are valid only inside the function
// given to Export, and are read once each, in the order of the fields:
// the rows of each refer only to rows of the streams before it, and one
// database connection reads one stream at a time.
type Export struct {
	// Counts are the rows of each kind in the snapshot; Import checks
	// the copy against them before it commits.
	Counts Counts
	Meta   Meta

	Feeds   iter.Seq2[FeedRecord, error]
	Entries iter.Seq2[EntryRecord, error]
	// Pending are the entries not clustered yet, by ID.
	Pending     iter.Seq2[int64, error]
	Topics      iter.Seq2[TopicRecord, error]
	Memberships iter.Seq2[Membership, error]
	Aliases     iter.Seq2[TopicAlias, error]
	Terms       iter.Seq2[TermFreq, error]
}

// FeedRecord is a feed as stored: Feed, whose Title is the one shown
// (EntryCount is not used), and what Feed leaves out.
type FeedRecord struct {
	Feed
	// OwnTitle is the feed's own title, which a user title hides.
	OwnTitle string
	// AddedURL is the public URL the feed was subscribed with, by which
	// a configuration still names it after a permanent redirect.
	AddedURL string
}

// EntryRecord is an entry as stored.
type EntryRecord struct {
	ID     int64
	FeedID int64
	// Entry is what was saved of the feed's entry: Entry.ID is the
	// feed's id for it, Language the one stored (the feed's when the
	// entry had none), Undated is not kept.
	Entry     feeds.Entry
	FirstSeen time.Time
	// Hash is the content hash of the entry as last saved (the shared
	// codec's), which tells the next poll whether it changed.
	Hash []byte
}

// TopicRecord is a storyline as stored: Topic (Stories and Outlets are not
// used: they are counted from the entries when read), the time a story
// last joined it and the clusterer's state of it, in the encoding every
// backend shares.
type TopicRecord struct {
	Topic
	Kept  time.Time
	State []byte
}

// Membership records that an entry is in a topic.
type Membership struct {
	EntryID int64
	TopicID int64
}

// TopicAlias is a topic ID that leads to another topic (see
// TopicMovedTo).
type TopicAlias struct {
	ID      int64
	TopicID int64
}

// TermFreq is the number of clustered stories a term occurs in.
type TermFreq struct {
	Term string
	Docs int64
}

// Meta is an install's single-row state: the clustering's counters and
// the data version.
type Meta struct {
	Docs        int64
	LastTopicID int64
	Clock       time.Time
	Generation  int64
	// Analyzer is the cluster.AnalyzerVersion of the stored clustering,
	// 0 before any.
	Analyzer int
	Version  DataVersion
}

// ImportedMeta is the state a database whose own state was dst takes on
// when src's install is copied into it at now: src's, except that the
// generation and the data version move past dst's, so that a clusterer
// or a cache that knew the empty database takes nothing of it for
// current. The data version also moves past src's: a client holding a
// page of the source must not take a page of the copy, which may come to
// differ under the same version, for the one it has.
func ImportedMeta(src, dst Meta, now time.Time) Meta {
	m := src
	m.Generation = max(src.Generation, dst.Generation+1)
	m.Version.Version = max(src.Version.Version, dst.Version.Version) + 1
	if now.After(src.Version.Changed) {
		m.Version.Changed = now
	}
	return m
}

// Counts is how many rows of each kind an install holds.
type Counts struct {
	Feeds       int64
	Entries     int64
	Pending     int64
	Topics      int64
	Memberships int64
	Aliases     int64
	Terms       int64
}

// All yields each count by the name of its kind, in the order of
// Export's streams.
func (c Counts) All() iter.Seq2[string, int64] {
	return func(yield func(string, int64) bool) {
		for _, k := range []struct {
			name string
			n    int64
		}{
			{"feeds", c.Feeds}, {"entries", c.Entries}, {"pending", c.Pending}, {"topics", c.Topics},
			{"memberships", c.Memberships}, {"aliases", c.Aliases}, {"terms", c.Terms},
		} {
			if !yield(k.name, k.n) {
				return
			}
		}
	}
}

// ErrNotEmpty is returned by Import into a database that holds an
// install already: a copy is never merged into another install.
var ErrNotEmpty = errors.New("store: the database is not empty")

// CheckEmpty returns ErrNotEmpty, with what the database holds, unless c
// counts nothing.
func CheckEmpty(c Counts) error {
	if c == (Counts{}) {
		return nil
	}
	var held []string
	for name, n := range c.All() {
		if n > 0 {
			held = append(held, fmt.Sprintf("%d %s", n, name))
		}
	}
	return fmt.Errorf("%w (it holds %s); a copy goes into an empty database only", ErrNotEmpty, strings.Join(held, ", "))
}

// CheckCopy compares the counts of a copy with those of its source.
func CheckCopy(source, copied Counts) error {
	if source == copied {
		return nil
	}
	want := map[string]int64{}
	for name, n := range source.All() {
		want[name] = n
	}
	var diff []string
	for name, n := range copied.All() {
		if n != want[name] {
			diff = append(diff, fmt.Sprintf("%s: %d in the source, %d copied", name, want[name], n))
		}
	}
	return fmt.Errorf("store: the copy does not match the source: %s", strings.Join(diff, "; "))
}
