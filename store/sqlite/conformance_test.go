package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/storyline/storyline/store/storetest"
)

// TestConformance runs the one store suite on SQLite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatal(err)
		}
		db.Now = now
		t.Cleanup(func() { db.Close() })
		return db
	})
}
