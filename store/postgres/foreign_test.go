package postgres

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/storyline/storyline/store/postgres/pgtest"
)

// TestRefusesAnotherProgramsSchema: a database whose schema holds another
// program's tables (or another tool's schema_migrations) is refused,
// naming the schema and tables and what to do, and left as it was; a
// schema of storyline's own in that database, through the URL's search
// path, is used.
func TestRefusesAnotherProgramsSchema(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, setup string
		want        []string
	}{
		{"an application's tables", "CREATE TABLE users (id INT); CREATE TABLE orders (id INT)",
			[]string{"schema public holds the tables of another program (orders, users)", "createdb", "search_path"}},
		{"golang-migrate's schema_migrations", "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, dirty BOOLEAN NOT NULL)",
			[]string{"another program (schema_migrations)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := pgtest.DSN(t)
			raw, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close(ctx)
			if _, err := raw.Exec(ctx, tc.setup); err != nil {
				t.Fatal(err)
			}
			db, err := Open(ctx, dsn)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var n int
			if err := raw.QueryRow(ctx, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := strings.Count(tc.setup, "CREATE TABLE"); n != want {
				t.Errorf("%d tables in public after the refusal, want the program's %d", n, want)
			}
		})
	}

	// An extension's tables, as hosts install in every new database,
	// are not another program's.
	ext := pgtest.DSN(t)
	rawExt, err := pgx.Connect(ctx, ext)
	if err != nil {
		t.Fatal(err)
	}
	defer rawExt.Close(ctx)
	if _, err := rawExt.Exec(ctx, "CREATE EXTENSION pg_buffercache"); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(ctx, ext); err != nil {
		t.Errorf("Open of a database with an extension: %v", err)
	} else {
		db.Close()
	}

	// A schema of its own beside them.
	dsn := pgtest.DSN(t)
	raw, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	if _, err := raw.Exec(ctx, "CREATE TABLE users (id INT); CREATE SCHEMA storyline"); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("options", "-csearch_path=storyline")
	u.RawQuery = q.Encode()
	db, err := Open(ctx, u.String())
	if err != nil {
		t.Fatalf("Open with a schema of its own: %v", err)
	}
	db.Close()
	if db, err = Open(ctx, u.String()); err != nil {
		t.Fatalf("Open again: %v", err)
	}
	db.Close()
}
