package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"iter"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/cmd/storyline/internal/poller"
	"github.com/storyline/storyline/cmd/storyline/internal/web"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/postgres"
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
	UpdateFeed(ctx context.Context, id int64, u store.FeedUpdate) (store.Feed, error)
	Feed(ctx context.Context, idOrURL string) (store.Feed, error)
	Feeds(ctx context.Context) ([]store.Feed, error)
	Entry(ctx context.Context, id int64) (store.StoredEntry, error)
	CountTopics(ctx context.Context, since time.Time, minSize int) (int, error)
	AnalyzerStale(ctx context.Context) (stored int, stale bool, err error)
	IntegrityCheck(ctx context.Context) (string, error)
	SchemaUpgrade() (from, to int)
	Backup(ctx context.Context, path string) error
	// Export and Import copy a whole install from one backend to another
	// (storyline migrate): each backend reads and writes its own tables,
	// and the records between them are package store's.
	Export(ctx context.Context, fn func(*store.Export) error) error
	Import(ctx context.Context, x *store.Export) (store.Counts, error)
	Close() error
}

// sharedDatabase is a backend that several instances use at once
// (PostgreSQL): they claim the feeds they poll, and one at a time
// clusters.
type sharedDatabase interface {
	poller.Claimer
	ingest.Fleet
	// ReleaseLeases ends an instance's leases as it stops.
	ReleaseLeases(ctx context.Context, owner string) error
}

const (
	// leaseBatch times poll.workers is how many feeds an instance sharing
	// its database claims per round: two rounds of its workers, so that
	// the round ends within the lease (see checkLease).
	leaseBatch = 2
	// leadEvery is how often an instance sharing its database tries to
	// take the lead of the clustering, and how often the leader looks for
	// stories to cluster: a dead leader is replaced within about it.
	leadEvery = 2 * time.Second
	// leadMaxWait bounds how long the leader lets new stories wait for a
	// wave of polls to end, so that a fleet that is never idle still has
	// its stories clustered within about this.
	leadMaxWait = 30 * time.Second
)

// instanceName tells instances apart in leases and logs: host, process
// and a random part, since a restarted process may get the same ID.
func instanceName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
}

// shownDSN is the database setting as logs and errors may show it: a URL
// or a keyword string without its password.
func shownDSN(dsn string) string {
	switch {
	case pgKeywords(dsn):
		return keywordPassword.ReplaceAllString(dsn, "${1}xxxxx")
	case !urlScheme.MatchString(dsn):
		return dsn // a file path
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "(an unparsable URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// keywordPassword finds the password of a keyword connection string,
// quoted or not.
var keywordPassword = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// isPostgres reports whether the database setting names a PostgreSQL
// database: a postgres:// or postgresql:// URL, or a keyword string as
// libpq and pg_dump take it ("host=db dbname=storyline user=news"),
// rather than a SQLite file.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") || pgKeywords(dsn)
}

// pgKeywords reports whether dsn is a keyword connection string: words
// that are all key=value (a value may be 'quoted', with spaces), one of
// whose keys names the server, database or user.
func pgKeywords(dsn string) bool {
	named := false
	for rest := strings.TrimSpace(dsn); rest != ""; rest = strings.TrimSpace(rest) {
		key, value, ok := strings.Cut(rest, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t'/") {
			return false
		}
		switch key {
		case "host", "hostaddr", "port", "dbname", "user", "service":
			named = true
		}
		value = strings.TrimLeft(value, " ")
		if strings.HasPrefix(value, "'") {
			end := strings.Index(value[1:], "'")
			if end < 0 {
				return false
			}
			rest = value[end+2:]
		} else if i := strings.IndexAny(value, " \t"); i >= 0 {
			rest = value[i:]
		} else {
			rest = ""
		}
	}
	return named
}

// urlScheme matches a setting that is a URL of some kind.
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// openDatabase opens the backend the setting names: a PostgreSQL URL or a
// SQLite file. existing refuses to create a SQLite file (or an empty
// PostgreSQL schema) for a command that only reads.
func openDatabase(ctx context.Context, dsn string, existing bool) (database, error) {
	if !isPostgres(dsn) && urlScheme.MatchString(dsn) {
		// Taken as a file name it would create a file named like it.
		return nil, fmt.Errorf("database %s: not a postgres:// or postgresql:// URL (a SQLite database is a file path)", shownDSN(dsn))
	}
	if isPostgres(dsn) {
		open := postgres.Open
		if existing {
			open = postgres.OpenExisting
		}
		db, err := open(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return pgDatabase{db}, nil
	}
	if existing {
		return sqlite.OpenExisting(ctx, dsn)
	}
	return sqlite.Open(ctx, dsn)
}

// refuseUpgradeUnderServe fails when the SQLite database at dsn is of an
// older version and a serve runs on it: opening it here would migrate the
// schema under a daemon that does not know the new one, which would go on
// writing the old way (a full-text index entry in the old form, say).
// The daemon must stop first; the new serve then upgrades it.
func refuseUpgradeUnderServe(ctx context.Context, dsn string) error {
	if isPostgres(dsn) {
		return nil
	}
	// The lock first: a glance at a file, where the schema takes opening
	// the database, and most commands run with no serve beside them.
	pid, holder, running := serveRunning(dsn)
	if !running {
		return nil
	}
	behind, have, want, err := sqlite.SchemaBehind(ctx, dsn)
	if err != nil || !behind {
		return nil // Open reports what is wrong with the file
	}
	who := "a storyline serve"
	if pid != "" {
		who += " (pid " + pid + ")"
	}
	if holder == fullVersion() {
		// This version's serve, which takes the lock before it opens
		// the database, is upgrading it now.
		return fmt.Errorf("%s of this version is upgrading %s (schema version %d to %d): try again once it has started",
			who, shownDSN(dsn), have, want)
	}
	return fmt.Errorf("%s of an older version is running on %s (schema version %d; this storyline upgrades it to %d): stop it, then run the new storyline (serve upgrades the database as it starts)",
		who, shownDSN(dsn), have, want)
}

// pgDatabase is the PostgreSQL backend as the commands use it: a shared
// database, whose cluster lock the pipeline takes as an ingest.Fleet's.
type pgDatabase struct{ *postgres.DB }

func (d pgDatabase) TryClusterLock(ctx context.Context) (ingest.ClusterLock, bool, error) {
	l, ok, err := d.DB.TryClusterLock(ctx)
	if !ok {
		return nil, false, err
	}
	return l, true, nil
}

var _ sharedDatabase = pgDatabase{}
