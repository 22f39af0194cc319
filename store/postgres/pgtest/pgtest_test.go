package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// Each test gets a database of its own, which nothing else has touched.
func TestDSNFreshDatabases(t *testing.T) {
	ctx := context.Background()
	var names [2]string
	for i := range names {
		conn, err := pgx.Connect(ctx, DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var tables int
		if err := conn.QueryRow(ctx, "SELECT current_database(), (SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public')").
			Scan(&names[i], &tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("database %s has %d tables, want none", names[i], tables)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE x (id int)"); err != nil {
			t.Fatal(err)
		}
	}
	if names[0] == names[1] {
		t.Errorf("two calls gave the same database %s", names[0])
	}
}
