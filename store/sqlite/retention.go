package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/storyline/storyline/store"
)

// PruneCandidates lists the entries r removes, as of the Now clock. Read
// before the deletes: entries only age, and new ones only push more past
// MaxPerFeed, so an entry listed here is still one to remove when its
// chunk comes.
func (d *DB) PruneCandidates(ctx context.Context, r store.Retention) ([]int64, error) {
	cutoff := int64(-1) // published_at is never negative: nothing is too old
	if r.MaxAge > 0 {
		cutoff = ms(d.Now().Add(-r.MaxAge))
	}
	perFeed := r.MaxPerFeed
	if perFeed <= 0 {
		perFeed = -1
	}
	rows, err := d.db.QueryContext(ctx, `SELECT id FROM (
		SELECT id, published_at, ROW_NUMBER() OVER (PARTITION BY feed_id ORDER BY published_at DESC, id DESC) AS rank
		FROM entries)
		WHERE published_at < ? OR (? > 0 AND rank > ?) ORDER BY id`, cutoff, perFeed, perFeed)
	if err != nil {
		return nil, fmt.Errorf("store: prune: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: prune: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: prune: %w", err)
	}
	return ids, nil
}

// ReclaimSpace gives the free pages back to the file system when the
// database was created with auto_vacuum = INCREMENTAL (see
// setIncrementalVacuum), and reports how many; an older database reuses
// them for later writes instead.
func (d *DB) ReclaimSpace(ctx context.Context) (int64, error) {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	var mode, before, after int64
	if err := d.db.QueryRowContext(ctx, "PRAGMA auto_vacuum").Scan(&mode); err != nil {
		return 0, fmt.Errorf("store: vacuum: %w", err)
	}
	if mode != 2 { // 2 is INCREMENTAL
		return 0, nil
	}
	if err := d.db.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&before); err != nil {
		return 0, fmt.Errorf("store: vacuum: %w", err)
	}
	if _, err := d.db.ExecContext(ctx, "PRAGMA incremental_vacuum"); err != nil {
		return 0, fmt.Errorf("store: vacuum: %w", err)
	}
	if err := d.db.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&after); err != nil {
		return 0, fmt.Errorf("store: vacuum: %w", err)
	}
	return before - after, nil
}

// Backup writes a consistent copy of the database to path, which must not
// exist yet, while other connections and processes go on reading and
// writing (VACUUM INTO reads one snapshot). The copy is written beside
// path, checked, and then renamed into place, so path is either a whole
// backup or absent.
func (d *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("store: backup: %s already exists", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: backup: %w", err)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("store: backup to %s: directory %s: %w", path, dir, err)
	} else if !st.IsDir() {
		return fmt.Errorf("store: backup to %s: %s is not a directory", path, dir)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	os.Remove(tmpPath) // VACUUM INTO wants to create the file itself
	defer os.Remove(tmpPath)
	if _, err := d.db.ExecContext(ctx, "VACUUM INTO ?", tmpPath); err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	if err := checkCopy(ctx, tmpPath); err != nil {
		return fmt.Errorf("store: backup to %s: the copy does not check out: %w", path, err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// checkCopy runs SQLite's quick check on a database file.
func checkCopy(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return errors.New(res)
	}
	return nil
}
