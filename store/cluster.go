package store

import (
	"context"
	"database/sql"
)

func (d *DB) onEntriesAdded(ctx context.Context, tx *sql.Tx, feedID int64, added []addedEntry) error {
	return nil
}
