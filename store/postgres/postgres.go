// Package postgres keeps storyline's state in PostgreSQL, for installs that
// outgrow one machine: several storyline instances share one database,
// lease due feeds to one another (ClaimDueFeeds), elect one clusterer
// (TryClusterLock) and serve the same feeds. It has the methods and the
// behaviour of the SQLite store (store/sqlite), which one conformance
// suite checks, with the domain types of package store.
//
// Times are stored as Unix milliseconds, as in SQLite. Full-text search
// uses a tsvector made with the entry's language's configuration
// ('simple' for languages PostgreSQL has no stemmer for) and a GIN index.
//
// The connection pool is pgxpool's, configured by the DSN
// (pool_max_conns=N and the like); a ClusterLock takes one connection
// out of it for as long as it is held.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/dataversion"
	"github.com/storyline/storyline/store/internal/migration"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Advisory lock keys: any two numbers that no other application sharing
// the database uses; these spell "storyline" plus a purpose.
const (
	migrateLockKey   int64 = 0x73746f72_79000001 // schema migrations, at Open
	clusterLockKey   int64 = 0x73746f72_79000002 // the one clusterer (TryClusterLock)
	clusterTxLockKey int64 = 0x73746f72_79000003 // one clustering transaction at a time
)

// DB is an open storyline database on a PostgreSQL server.
type DB struct {
	pool *pgxpool.Pool
	name string // the database and server, for errors (never the password)
	// Now is the clock; tests replace it.
	Now func() time.Time

	// writeMu serializes this process's write transactions, as the
	// SQLite store does: the ingest pipeline is the one writer of a
	// process, and the published data version needs no per-transaction
	// bookkeeping.
	writeMu sync.Mutex
	version dataversion.Cache

	// lockConn is the session of TryClusterLock's last failed try, kept
	// for the next; closed is set by Close, after which none is kept.
	lockMu   sync.Mutex
	lockConn *pgx.Conn
	closed   bool
	// upgradedFrom and upgradedTo are SchemaUpgrade's.
	upgradedFrom, upgradedTo int
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string) and brings its schema up to date; several instances
// may open one database at once.
func Open(ctx context.Context, dsn string) (*DB, error) {
	d, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := d.migrate(ctx); err != nil {
		d.pool.Close()
		return nil, fmt.Errorf("store: open %s: %w", d.name, err)
	}
	return d, nil
}

// OpenExisting opens a database that storyline has set up before, for
// commands that only read: a database without storyline's schema is an
// error (a mistyped --db must not answer with an empty store).
func OpenExisting(ctx context.Context, dsn string) (*DB, error) {
	d, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	var have bool
	if err := d.pool.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&have); err != nil {
		d.pool.Close()
		return nil, fmt.Errorf("store: open %s: %w", d.name, err)
	}
	if !have {
		d.pool.Close()
		return nil, fmt.Errorf("store: %s: %w", d.name, store.ErrNoDatabase)
	}
	if err := d.migrate(ctx); err != nil {
		d.pool.Close()
		return nil, fmt.Errorf("store: open %s: %w", d.name, err)
	}
	return d, nil
}

func connect(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes no password; the DSN itself is not repeated.
		return nil, fmt.Errorf("store: PostgreSQL connection string: %w", err)
	}
	cc := cfg.ConnConfig
	// A host that vanishes (power cut, partition) without closing its
	// connections would otherwise keep its sessions, and with them the
	// cluster lock and a clustering transaction's locks, for the two
	// hours of the server's default keepalive: every other instance's
	// clustering would wait that long. These let the server notice
	// within about half a minute; a transaction left idle is ended after
	// five. A DSN that sets them wins.
	for k, v := range map[string]string{
		"tcp_keepalives_idle":                 "10",
		"tcp_keepalives_interval":             "5",
		"tcp_keepalives_count":                "3",
		"idle_in_transaction_session_timeout": "300000",
	} {
		if _, set := cc.RuntimeParams[k]; !set {
			cc.RuntimeParams[k] = v
		}
	}
	name := fmt.Sprintf("database %q on %s:%d", cc.Database, cc.Host, cc.Port)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", name, err)
	}
	// Fail now, naming the server, rather than at the first query.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: open %s: %w", name, connectError(err))
	}
	return &DB{pool: pool, name: name, Now: time.Now}, nil
}

// connectError is what a failed connection says to a person. pgx tries
// each address with TLS and then without (sslmode=prefer), and its error
// lists every attempt, so a wrong password read "tls error: server
// refused TLS connection" first; when the server answered, its answer is
// the error, with a hint for the usual mistakes. The original stays in
// the chain for errors.Is and errors.As.
func connectError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	hint := ""
	switch pgErr.Code {
	case "28P01", "28000": // invalid_password, invalid_authorization_specification
		hint = " (give the password in PGPASSWORD, a PGPASSFILE, or the URL)"
	case "3D000": // invalid_catalog_name
		hint = " (create it first: createdb -O USER NAME)"
	}
	return &serverError{msg: pgErr.Message + " (SQLSTATE " + pgErr.Code + ")" + hint, err: err}
}

// serverError is a connection error told as the server's answer.
type serverError struct {
	msg string
	err error
}

func (e *serverError) Error() string { return e.msg }
func (e *serverError) Unwrap() error { return e.err }

// Close closes the pooled connections. A ClusterLock has a connection of
// its own, which its Release closes; leases outlive the process until
// they run out.
func (d *DB) Close() error {
	d.lockMu.Lock()
	conn := d.lockConn
	d.lockConn, d.closed = nil, true
	d.lockMu.Unlock()
	if conn != nil {
		conn.Close(context.Background())
	}
	d.pool.Close()
	return nil
}

// IntegrityCheck reads a row of every table and checks the schema version:
// PostgreSQL keeps its own storage sound (checksums, WAL), so what is left
// to check is that the database is reachable, readable by this user and
// of this storyline's schema. It returns "ok" or what is wrong.
func (d *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var problems []string
	for _, table := range []string{"feeds", "entries", "topics", "topic_entries", "topic_aliases",
		"pending_entries", "term_stats", "cluster_meta", "data_version", "schema_migrations"} {
		if _, err := d.pool.Exec(ctx, "SELECT 1 FROM "+table+" LIMIT 1"); err != nil {
			if ctx.Err() != nil {
				return "", fmt.Errorf("store: integrity check: %w", err)
			}
			problems = append(problems, fmt.Sprintf("%s: %v", table, err))
		}
	}
	for _, row := range []string{"cluster_meta", "data_version"} {
		var n int
		if err := d.pool.QueryRow(ctx, "SELECT COUNT(*) FROM "+row).Scan(&n); err == nil && n != 1 {
			problems = append(problems, fmt.Sprintf("%s has %d rows, want 1", row, n))
		}
	}
	if len(problems) > 0 {
		return strings.Join(problems, "\n"), nil
	}
	return "ok", nil
}

// ReclaimSpace does nothing: PostgreSQL's autovacuum makes the space of
// deleted rows reusable, and giving it back to the file system takes a
// VACUUM FULL, which locks the tables and is an administrator's decision.
func (d *DB) ReclaimSpace(ctx context.Context) (int64, error) { return 0, nil }

// ErrBackupUnsupported is returned by Backup: a PostgreSQL database is
// backed up with PostgreSQL's tools.
var ErrBackupUnsupported = errors.New("store: backup: storyline backs up SQLite files only; back up a PostgreSQL database with pg_dump (pg_dump -Fc -f storyline.dump DSN) or the server's own backups")

// Backup refuses with ErrBackupUnsupported: pg_dump makes a consistent copy
// while the instances go on writing, and restores with pg_restore.
func (d *DB) Backup(ctx context.Context, path string) error { return ErrBackupUnsupported }

// loadMigrations reads the embedded migrations, in order.
func loadMigrations() ([]migration.File, error) { return migration.Load(migrationFS, "migrations") }

// migrate applies the embedded migrations that the database has not seen,
// each in a transaction with its record, under an advisory lock: several
// instances started together must not apply one twice, and the ones that
// wait find it applied.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("wait for other instances' migrations: %w", err)
	}
	defer func() {
		// A session lock outlives a failed unlock only until the session
		// ends: close the connection rather than return it locked.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey); err != nil {
			conn.Hijack().Close(context.WithoutCancel(ctx))
		}
	}()
	if tables, err := foreignTables(ctx, conn.Conn()); err != nil {
		return err
	} else if len(tables) > 0 {
		return fmt.Errorf("schema %s holds the tables of another program (%s), not storyline's: give storyline a database of its own (createdb -O USER storyline) or a schema of its own (CREATE SCHEMA storyline AUTHORIZATION USER, then options=-csearch_path%%3Dstoryline in the URL)",
			tables[0], strings.Join(tables[1:], ", "))
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL)`); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42501" { // insufficient_privilege
			return fmt.Errorf("create schema_migrations: %w (storyline's user must own the database: createdb -O USER NAME, or ALTER DATABASE NAME OWNER TO USER)", err)
		}
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("%w: database is at schema version %d, this binary knows up to %d; upgrade storyline", store.ErrSchemaTooNew, have, len(ms))
	}
	for _, m := range ms[have:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// The simple protocol runs a file of several statements.
			if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				m.Version, m.Name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	if have > 0 && have < len(ms) {
		d.upgradedFrom, d.upgradedTo = have, len(ms)
	}
	return nil
}

// SchemaUpgrade reports the schema versions Open upgraded the database
// from and to, or zeros when this instance upgraded nothing (a new
// database, or one another instance upgraded first).
func (d *DB) SchemaUpgrade() (from, to int) { return d.upgradedFrom, d.upgradedTo }

// foreignTables returns, when the schema storyline would create its
// tables in (the first of the search path) holds another program's
// tables and not storyline's, that schema's name followed by some of
// their names; else nothing. Without it, a mistyped database or a shared
// one got storyline's tables among its own. A schema_migrations table
// of another tool (golang-migrate's, Rails') is not storyline's: its has
// a name and a time for each version.
func foreignTables(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	var schema *string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("read the current schema: %w", err)
	}
	if schema == nil {
		return nil, nil // no schema to create in: the CREATE says so
	}
	var ours bool
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) = 2 FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = 'schema_migrations' AND column_name IN ('name', 'applied_at')`, *schema).Scan(&ours); err != nil {
		return nil, fmt.Errorf("read schema %s: %w", *schema, err)
	}
	if ours {
		return nil, nil
	}
	// An extension's tables (pg_stat_statements, PostGIS's
	// spatial_ref_sys), which hosts install in every new database, are
	// no program's data.
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
			AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		ORDER BY c.relname LIMIT 6`, *schema)
	if err != nil {
		return nil, fmt.Errorf("read schema %s: %w", *schema, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read schema %s: %w", *schema, err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	if len(names) > 5 {
		names = append(names[:5], "...")
	}
	return append([]string{*schema}, names...), nil
}

// DataVersion returns the current data version. It is answered from memory
// (a server asks it on every request): this DB's own writes show at once,
// another instance's within about a second (dataversion.TTL, by the Now
// clock, plus one query).
func (d *DB) DataVersion(ctx context.Context) (store.DataVersion, error) {
	return d.version.Get(ctx, d.Now(), d.readDataVersion)
}

func (d *DB) readDataVersion(ctx context.Context) (store.DataVersion, error) {
	var v store.DataVersion
	var changed int64
	if err := d.pool.QueryRow(ctx, "SELECT version, changed_at FROM data_version WHERE id = 1").
		Scan(&v.Version, &changed); err != nil {
		return store.DataVersion{}, fmt.Errorf("store: data version: %w", err)
	}
	v.Changed = fromMS(changed)
	return v, nil
}

// bumpDataVersion marks, inside tx, that what is served changed. The row
// stays locked until tx ends, so the version it returns is the stored one
// as of the commit; publishDataVersion makes it current after the commit
// (a reader that saw it earlier could read the old rows under it).
func (d *DB) bumpDataVersion(ctx context.Context, tx pgx.Tx) (store.DataVersion, error) {
	var v store.DataVersion
	var changed int64
	if err := tx.QueryRow(ctx, "UPDATE data_version SET version = version + 1, changed_at = $1 WHERE id = 1 RETURNING version, changed_at",
		ms(d.Now())).Scan(&v.Version, &changed); err != nil {
		return v, fmt.Errorf("bump the data version: %w", err)
	}
	v.Changed = fromMS(changed)
	return v, nil
}

// publishDataVersion makes v, committed, the current version.
func (d *DB) publishDataVersion(v store.DataVersion) { d.version.Publish(v, d.Now()) }

// writeFunc runs fn in a transaction of this process's write path, bumping
// and publishing the data version when fn reports that what is served
// changed.
func (d *DB) writeFunc(ctx context.Context, fn func(tx pgx.Tx) (changed bool, err error)) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	changed, err := fn(tx)
	if err != nil {
		return err
	}
	var v store.DataVersion
	if changed {
		if v, err = d.bumpDataVersion(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if changed {
		d.publishDataVersion(v)
	}
	return nil
}

// ms converts a time to the Unix milliseconds stored; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
