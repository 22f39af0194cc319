package main

import (
	"context"
	"iter"
	"strings"
	"time"

	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/cmd/storyline/internal/poller"
	"github.com/storyline/storyline/cmd/storyline/internal/web"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

// database is what the commands need of a storage backend: what the
// pipeline, the scheduler and the web handlers declare, and the few
// things only commands do (subscriptions, backup, checks).
type database interface {
	ingest.Store
	web.Store
	poller.Queue

	AddFeed(ctx context.Context, nf store.NewFeed) (store.Feed, error)
	AddFeeds(ctx context.Context, nfs iter.Seq2[store.NewFeed, error]) (added, existing int, err error)
	SyncFeeds(ctx context.Context, nfs []store.NewFeed) (int, error)
	MoveFeed(ctx context.Context, id int64, newURL string) error
	Feed(ctx context.Context, idOrURL string) (store.Feed, error)
	Feeds(ctx context.Context) ([]store.Feed, error)
	Entry(ctx context.Context, id int64) (store.StoredEntry, error)
	CountTopics(ctx context.Context, since time.Time, minSize int) (int, error)
	AnalyzerStale(ctx context.Context) (stored int, stale bool, err error)
	IntegrityCheck(ctx context.Context) (string, error)
	Backup(ctx context.Context, path string) error
	Close() error
}

// isPostgres reports whether the database setting names a PostgreSQL
// database (a postgres:// or postgresql:// URL) rather than a SQLite file.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openDatabase opens the backend the setting names: a PostgreSQL URL or a
// SQLite file. existing refuses to create a SQLite file (or an empty
// PostgreSQL schema) for a command that only reads.
func openDatabase(ctx context.Context, dsn string, existing bool) (database, error) {
	if existing {
		return sqlite.OpenExisting(ctx, dsn)
	}
	return sqlite.Open(ctx, dsn)
}
