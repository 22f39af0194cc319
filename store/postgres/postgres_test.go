package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/storyline/storyline/store/postgres/pgtest"
	"github.com/storyline/storyline/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openTest opens a new database of its own for t, with the clock now.
func openTest(t *testing.T, now func() time.Time) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	db.Now = now
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the one store suite on PostgreSQL.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Store { return openTest(t, now) })
}
