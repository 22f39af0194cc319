package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/postgres"
	"github.com/storyline/storyline/store/postgres/pgtest"
	"github.com/storyline/storyline/store/sqlite"
	"github.com/storyline/storyline/store/storetest"
)

// migrate copies a SQLite install to PostgreSQL and back, prints what it
// copied, and refuses a destination that holds anything.
func TestMigrateCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	from, back, dsn := filepath.Join(dir, "from.db"), filepath.Join(dir, "back.db"), pgtest.DSN(t)
	src, err := sqlite.Open(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Populate(t, src)
	src.Close()

	out := mustRun(t, "migrate", "--from", from, "--to", dsn)
	for _, want := range []string{"copied " + from + " to " + shownDSN(dsn), "feeds                 6", "pending               2"} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate printed:\n%s\nwant %q in it", out, want)
		}
	}
	mustRun(t, "migrate", "--to", back, "--from", dsn)

	_, _, err = runCLI(t, "migrate", "--from", from, "--to", dsn)
	if !errors.Is(err, store.ErrNotEmpty) || !strings.Contains(err.Error(), shownDSN(dsn)) || !strings.Contains(err.Error(), "6 feeds") {
		t.Errorf("migrate into a database holding a copy: %v; want it refused, naming the database and what it holds", err)
	}

	src, err = sqlite.OpenExisting(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pg, err := postgres.OpenExisting(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	final, err := sqlite.OpenExisting(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	defer final.Close()
	storetest.SameInstall(t, src, pg)
	storetest.SameInstall(t, src, final)
}

func TestMigrateCommandMistakes(t *testing.T) {
	dir := t.TempDir()
	missing, dst := filepath.Join(dir, "missing.db"), filepath.Join(dir, "new.db")
	for _, args := range [][]string{
		{"migrate", "--from", missing},
		{"migrate", "--to", dst},
		{"migrate", "--from", dst, "--to", dst},
		{"migrate", "--from", missing, "--to", dst, "extra"},
	} {
		var ee exitError
		if _, _, err := runCLI(t, args...); !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("storyline %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
	_, _, err := runCLI(t, "migrate", "--from", missing, "--to", dst)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("migrate from a missing file: %v, want an error naming it", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("migrate from a missing file created the destination: %v", err)
	}
}
