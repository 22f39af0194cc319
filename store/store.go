// Package store holds what storyline keeps, as the types every storage
// backend shares: feeds, their entries, topics, polls, and the primitives
// of a write transaction (Tx) that the ingest pipeline runs the clustering
// over. The backends are its subpackages: store/sqlite, the default, one
// file for one instance, and store/postgres, for several instances on one
// database. Both pass one conformance suite, store/storetest.
package store

import (
	"errors"
	"time"
)

// ErrNotFound is returned when a looked-up feed, entry or topic does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrGone is returned by TopicMovedTo for an ID that named a topic whose
// stories are all gone (removed with their feed, or by retention), where
// ErrNotFound says the ID never named one: a reader subscribed to the
// topic's feed is told to stop, not that it mistyped.
var ErrGone = errors.New("store: gone")

// ErrNoDatabase is returned by a backend's OpenExisting when there is no
// storyline database where it was told to look: the caller, which knows
// where that setting came from, says what to check.
var ErrNoDatabase = errors.New("no storyline database there")

// ErrSchemaTooNew is returned by Open when the database was written by a newer
// storyline than this one: using it could silently lose data.
var ErrSchemaTooNew = errors.New("store: database schema is newer than this storyline binary")

// DataVersion identifies the state of what is served.
type DataVersion struct {
	// Version changes whenever a write changed what is served: new or
	// edited entries, topics, feed titles, removed feeds.
	Version int64
	// Changed is when it last changed (an item's own date says nothing
	// about late arrivals, edits or removals).
	Changed time.Time
}
