package store

import "time"

// Retention says which stories are kept; the zero value keeps all.
type Retention struct {
	// MaxAge removes stories published longer ago; 0 keeps them.
	MaxAge time.Duration
	// MaxPerFeed keeps the newest stories of each feed; 0 keeps all.
	MaxPerFeed int
}

// KeepsAll reports whether r removes nothing.
func (r Retention) KeepsAll() bool { return r.MaxAge <= 0 && r.MaxPerFeed <= 0 }

// PruneStats is what a prune (of the ingest pipeline) removed.
type PruneStats struct {
	Entries int
	// Topics counts the storylines removed because none of their stories
	// was left; the others were rebuilt from the stories that remain.
	Topics int
	// FreedPages is how many pages incremental vacuum gave back to the
	// file system (0 for a database created before it was enabled, whose
	// free pages are reused by later writes instead).
	FreedPages int64
}
