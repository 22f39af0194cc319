// Package sqlite is the default storage backend: storyline's state in one
// SQLite file, for one instance. Writes go through one serialized path per
// process; readers in other processes (the CLI next to a running daemon)
// read concurrently under WAL. The clustering itself is not done here: the
// ingest pipeline runs it over the primitives of a write transaction
// (store.Tx).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/dataversion"
	"github.com/storyline/storyline/store/internal/migration"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is an open storyline database.
type DB struct {
	db *sql.DB
	// Now is the clock; tests replace it.
	Now func() time.Time

	// writeMu serializes this process's writers so that SQLite never has to
	// arbitrate between them (and never answers "database is locked").
	writeMu sync.Mutex
	version dataversion.Cache
	// upgradedFrom and upgradedTo are SchemaUpgrade's.
	upgradedFrom, upgradedTo int
	// pendingVersion is the version a write transaction has set and not
	// yet committed; guarded by writeMu.
	pendingVersion struct {
		tx *sql.Tx
		v  store.DataVersion
	}
}

// Open opens (creating if needed) the database at path for reading and
// writing, and brings its schema up to date. The path ":memory:" gives a
// private in-memory database. It fails at once, naming the file or its
// directory, when either cannot be written: a command that polls should
// not fetch a thousand feeds before its first save fails.
func Open(ctx context.Context, path string) (*DB, error) {
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	return open(ctx, path)
}

// OpenExisting opens the database at path for commands that only read: a
// missing file is an error naming the path (a mistyped --db must not
// answer with an empty, newly created database).
func OpenExisting(ctx context.Context, path string) (*DB, error) {
	if path != ":memory:" {
		if st, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("store: %s: %w", path, store.ErrNoDatabase)
		} else if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		} else if st.IsDir() {
			return nil, fmt.Errorf("store: %s is a directory, not a database file", path)
		}
	}
	return open(ctx, path)
}

// maxOpenConns bounds the connections of one process. Each holds a page
// cache (cache_size below), and readers beyond the cores only queue inside
// SQLite: under a burst of searches an unbounded pool grew to 200
// connections and 4 GB. One more than the readers leaves room for the
// writer.
var maxOpenConns = max(4, 2*runtime.GOMAXPROCS(0)+1)

// connMaxIdle frees the page caches of a burst's connections once it has
// passed, so that an idle daemon stays small.
const connMaxIdle = time.Minute

func open(ctx context.Context, path string) (*DB, error) {
	dsn, err := dataSourceName(path)
	if err != nil {
		return nil, err
	}
	fresh := false
	if st, err := os.Stat(path); path != ":memory:" && (errors.Is(err, fs.ErrNotExist) || err == nil && st.Size() == 0) {
		fresh = true
	}
	if !fresh && path != ":memory:" {
		if tables := foreignTables(ctx, path); len(tables) > 0 {
			if len(tables) > 5 {
				tables = append(tables[:5], "...")
			}
			return nil, fmt.Errorf("store: %s is the SQLite database of another program (tables %s), not a storyline database: give --db a new file or a storyline one",
				path, strings.Join(tables, ", "))
		}
	}
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if fresh {
		if err := setIncrementalVacuum(ctx, sqldb); err != nil {
			sqldb.Close()
			return nil, fmt.Errorf("store: create %s: %w", path, err)
		}
	}
	if path == ":memory:" {
		// Every connection to :memory: is a different database.
		sqldb.SetMaxOpenConns(1)
	} else {
		sqldb.SetMaxOpenConns(maxOpenConns)
		sqldb.SetMaxIdleConns(maxOpenConns)
		sqldb.SetConnMaxIdleTime(connMaxIdle)
	}
	d := &DB{db: sqldb, Now: time.Now}
	if err := d.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return d, nil
}

// SchemaBehind reports whether the storyline database at path exists and
// was made by an older version: opening it would apply the migrations
// from have+1 to want. A new or missing file is not behind. It only reads,
// so a command can refuse to upgrade the file under a daemon that still
// runs the older version.
func SchemaBehind(ctx context.Context, path string) (behind bool, have, want int, err error) {
	if path == ":memory:" {
		return false, 0, 0, nil
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		return false, 0, 0, nil
	}
	ms, err := loadMigrations()
	if err != nil {
		return false, 0, 0, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return false, 0, 0, err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		// No storyline schema yet (or not a storyline database, which
		// Open explains).
		return false, 0, len(ms), nil
	}
	return have > 0 && have < len(ms), have, len(ms), nil
}

// foreignTables returns the tables of an SQLite file that holds tables but
// not storyline's schema_migrations (Rails and golang-migrate have one of
// that name too, without its columns): another program's database, which
// a mistyped --db must not turn into a storyline one. It looks before the
// connection that sets storyline's pragmas, since even the journal mode
// it sets stays in the file. A file it cannot read as SQLite gives none:
// opening it names that problem.
func foreignTables(ctx context.Context, path string) []string {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil
		}
		names = append(names, name)
	}
	if rows.Err() != nil {
		return nil
	}
	rows.Close()
	if slices.Contains(names, "schema_migrations") {
		// storyline's own has a name and a time for each version.
		var n int
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('schema_migrations') WHERE name IN ('name', 'applied_at')`).Scan(&n)
		if err != nil || n == 2 {
			return nil
		}
	}
	return names
}

// setIncrementalVacuum makes a new database give the pages a prune frees
// back to the file system. The mode must be set before the first table
// exists, on the connection that writes it; an existing database keeps
// its mode (until a full VACUUM) and reuses its free pages instead.
func setIncrementalVacuum(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA auto_vacuum = INCREMENTAL"); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "VACUUM")
	return err
}

// checkWritable reports, naming the culprit, why a database at path could
// not be written: SQLite itself would say "attempt to write a readonly
// database" at the first write, without naming the file or the directory.
func checkWritable(path string) error {
	if path == ":memory:" || path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("store: %s is a directory, not a database file", path)
	} else if err != nil {
		st, derr := os.Stat(dir)
		switch {
		case derr != nil:
			return fmt.Errorf("store: cannot create %s: directory %s: %w", path, dir, derr)
		case !st.IsDir():
			return fmt.Errorf("store: cannot create %s: %s is not a directory", path, dir)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("store: open %s: %w", path, err)
		}
	} else if f, err := os.OpenFile(path, os.O_RDWR, 0); err != nil {
		return fmt.Errorf("store: database %s is not writable: %w", path, err)
	} else {
		f.Close()
	}
	// The directory must take the journal (-wal, -shm) and, for a new
	// database, the file itself.
	probe, err := os.CreateTemp(dir, ".storyline-write-check-*")
	if err != nil {
		return fmt.Errorf("store: directory %s of database %s is not writable: %w", dir, filepath.Base(path), err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// dataSourceName puts the pragmas in the connection string so that every
// pooled connection gets them, not just the first one.
func dataSourceName(path string) (string, error) {
	if path == "" {
		return "", errors.New("store: empty database path")
	}
	q := url.Values{}
	for _, p := range []string{
		"busy_timeout(10000)",
		"foreign_keys(1)",
		"journal_mode(WAL)",
		"synchronous(NORMAL)",
		// A 4 MiB page cache per connection (SQLite's default is 2 MiB).
		// On news-like load (bench/ingest.sh cold 1000 50, three runs
		// alternating) 8 MiB peaked at 118-123 MiB of RSS, 4 MiB at
		// 109-117 and 2 MiB at 105-111, since the poll fills two
		// connections' caches; 4 and 8 took the same CPU, 2 a few percent
		// more in system time (more reads of the file). 32 MiB made no
		// difference to speed either (medians 1,850 and 1,840 items/s
		// against 8 MiB, in an earlier version).
		"cache_size(-4096)",
		"temp_store(MEMORY)",
	} {
		q.Add("_pragma", p)
	}
	// IMMEDIATE transactions take the write lock at BEGIN, so two writers
	// queue on the busy timeout instead of deadlocking on lock upgrade.
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode(), nil
}

// Close closes the database. It never waits for another process: a CLI
// command next to an ingesting daemon exits as soon as it is done.
func (d *DB) Close() error {
	// Checkpoint so that the file alone is complete after a clean exit,
	// when no other process is writing or reading; otherwise that
	// process checkpoints later. With the usual busy timeout, TRUNCATE
	// would wait for the other's writer and stall every command 10 s.
	ctx := context.Background()
	if conn, err := d.db.Conn(ctx); err == nil {
		if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err == nil {
			_, _ = conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		}
		conn.Close()
	}
	return d.db.Close()
}

// IntegrityCheck runs SQLite's integrity check and returns its verdict ("ok"
// when the file is sound).
func (d *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var res string
	if err := d.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return "", fmt.Errorf("store: integrity check: %w", err)
	}
	return res, nil
}

// DataVersion returns the current data version. It is answered from memory
// (so a server may ask it on every request): this DB's own writes show at
// once, another process's (`storyline poll` next to a running `serve`)
// within about a second (dataversion.TTL, by the Now clock, plus one
// query).
func (d *DB) DataVersion(ctx context.Context) (store.DataVersion, error) {
	return d.version.Get(ctx, d.Now(), d.readDataVersion)
}

func (d *DB) readDataVersion(ctx context.Context) (store.DataVersion, error) {
	var v store.DataVersion
	var changed int64
	if err := d.db.QueryRowContext(ctx, "SELECT data_version, data_changed_at FROM cluster_meta WHERE id = 1").
		Scan(&v.Version, &changed); err != nil {
		return store.DataVersion{}, fmt.Errorf("store: data version: %w", err)
	}
	v.Changed = fromMS(changed)
	return v, nil
}

// bumpDataVersion marks, inside tx, that what is served changed. The new
// version is kept in memory until publishDataVersion(tx) after the commit:
// a reader that saw it earlier could read the old rows (the transaction is
// not visible yet) and keep them under the new version.
func (d *DB) bumpDataVersion(ctx context.Context, tx *sql.Tx) error {
	var v store.DataVersion
	var changed int64
	if err := tx.QueryRowContext(ctx, "UPDATE cluster_meta SET data_version = data_version + 1, data_changed_at = ? WHERE id = 1 RETURNING data_version, data_changed_at",
		ms(d.Now())).Scan(&v.Version, &changed); err != nil {
		return err
	}
	v.Changed = fromMS(changed)
	d.pendingVersion.tx, d.pendingVersion.v = tx, v
	return nil
}

// publishDataVersion makes the version set by tx current, after tx
// committed; it does nothing when tx did not bump it. Callers hold writeMu.
// A rolled-back transaction is never published: its pending version is
// dropped by the next bump. The published version is the stored one as of
// the commit (writes of every process are serialized), so it counts as
// read from the database then.
func (d *DB) publishDataVersion(tx *sql.Tx) {
	p := &d.pendingVersion
	if p.tx != tx || tx == nil {
		return
	}
	d.version.Publish(p.v, d.Now())
	p.tx = nil
}

// migrationCode holds the migrations, by version, that SQL cannot express;
// each runs after its file's SQL, in the same transaction.
var migrationCode = map[int]func(context.Context, *sql.Tx) error{
	6:  reconcileTopicsSchema,
	10: splitFeedSecrets,
}

// splitFeedSecrets takes the credentials out of the URLs of feeds
// subscribed before storyline kept them apart. A public URL that another
// feed already has gets the feed's ID as a fragment, which keeps it unique
// and is never sent to the server.
func splitFeedSecrets(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, url, added_url, last_error FROM feeds ORDER BY id")
	if err != nil {
		return err
	}
	type change struct {
		id                          int64
		url, added, secret, lastErr string
	}
	var changes []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.id, &c.url, &c.added, &c.lastErr); err != nil {
			rows.Close()
			return err
		}
		var addedSecret string
		c.url, c.secret = feeds.SplitSecrets(c.url)
		c.added, addedSecret = feeds.SplitSecrets(c.added)
		if c.secret == "" {
			c.secret = addedSecret
		}
		// The last error named the URL it was fetched with.
		c.lastErr = feeds.Redact(feeds.Redact(c.lastErr, c.url, c.secret), c.added, addedSecret)
		if c.secret != "" || addedSecret != "" {
			changes = append(changes, c)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, c := range changes {
		var taken int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM feeds WHERE url = ? AND id <> ?", c.url, c.id).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			c.url += "#" + strconv.FormatInt(c.id, 10)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE feeds SET url = ?, added_url = ?, secret = ?, last_error = ? WHERE id = ?",
			c.url, c.added, c.secret, c.lastErr, c.id); err != nil {
			return err
		}
	}
	return nil
}

// reconcileTopicsSchema gives databases made by the first skeleton and
// databases made since the same topics and cluster_meta columns (see
// migrations/0006_topics_schema_as_built.sql).
func reconcileTopicsSchema(ctx context.Context, tx *sql.Tx) error {
	for _, c := range []struct {
		table, column, decl string // decl "" drops the column
	}{
		{"cluster_meta", "last_topic_id", "INTEGER NOT NULL DEFAULT 0"},
		{"cluster_meta", "clock", "INTEGER NOT NULL DEFAULT 0"},
		{"cluster_meta", "data_version", "INTEGER NOT NULL DEFAULT 0"},
		{"cluster_meta", "config", ""},
		{"topics", "outlets", ""},
	} {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?", c.table, c.column).Scan(&n); err != nil {
			return err
		}
		q := ""
		switch {
		case n == 0 && c.decl != "":
			q = "ALTER TABLE " + c.table + " ADD COLUMN " + c.column + " " + c.decl
		case n > 0 && c.decl == "":
			q = "ALTER TABLE " + c.table + " DROP COLUMN " + c.column
		}
		if q == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// loadMigrations reads the embedded migrations, in order.
func loadMigrations() ([]migration.File, error) { return migration.Load(migrationFS, "migrations") }

// migrate applies the embedded migrations that the database has not seen,
// each in its own transaction together with its record in schema_migrations.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations (is this a SQLite database?): %w", err)
	}
	var have int
	if err := d.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("%w: database is at schema version %d, this binary knows up to %d; upgrade storyline", store.ErrSchemaTooNew, have, len(ms))
	}
	for _, m := range ms[have:] {
		if err := d.apply(ctx, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	if have > 0 && have < len(ms) {
		d.upgradedFrom, d.upgradedTo = have, len(ms)
	}
	return nil
}

// SchemaUpgrade reports the schema versions Open upgraded an existing
// database from and to, or zeros when it upgraded nothing (a new database
// is not an upgrade): the commands say so, since an older storyline can no
// longer open the file.
func (d *DB) SchemaUpgrade() (from, to int) { return d.upgradedFrom, d.upgradedTo }

func (d *DB) apply(ctx context.Context, m migration.File) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Another process may have applied it while we waited for the lock.
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if step := migrationCode[m.Version]; step != nil {
		if err := step(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// ms converts a time to the Unix milliseconds stored in the database; the
// zero time is stored as 0.
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
