package postgres

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/storyline/storyline/store/sqlite"
	"github.com/storyline/storyline/store/storetest"
)

// TestMigrateFromSQLite copies a SQLite install to PostgreSQL and back
// (the conformance suite copies between databases of one backend).
func TestMigrateFromSQLite(t *testing.T) {
	openSQLite := func(t *testing.T, now func() time.Time) storetest.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatal(err)
		}
		db.Now = now
		t.Cleanup(func() { db.Close() })
		return db
	}
	storetest.RunMigrate(t, openSQLite, func(t *testing.T, now func() time.Time) storetest.Store { return openTest(t, now) })
}
