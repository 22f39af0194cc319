//go:build unix

package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storyline/storyline/store/sqlite"
)

// TestNoUpgradeUnderAnOlderServe: a command of a newer version does not
// migrate a SQLite database that a serve of the older one is running on
// (here: its lock held, and the database a migration behind), nor one
// that this version's serve is upgrading. It names the
// daemon and says what to do; once the daemon is gone, the command
// upgrades the file and says so, once.
func TestNoUpgradeUnderAnOlderServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "old.db")
	made, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	made.Close()
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	// As the previous version left it: without the last migration.
	if _, err := raw.Exec("DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	release, err := lockServe(db)
	if err != nil {
		t.Fatal(err)
	}
	// A serve of this version holds the lock while it upgrades the
	// database: the command waits for it rather than have it stopped.
	_, _, err = runCLI(t, "--db", db, "feeds")
	if err == nil || !strings.Contains(err.Error(), "of this version is upgrading") || !strings.Contains(err.Error(), "try again") {
		t.Fatalf("feeds while this version's serve upgrades: %v, want to be told to wait", err)
	}
	// An older serve wrote only its process ID.
	if err := os.WriteFile(db+"-serve.lock", []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCLI(t, "--db", db, "feeds")
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("serve (pid %d) of an older version is running on %s", os.Getpid(), db)) ||
		!strings.Contains(err.Error(), "stop it") {
		t.Fatalf("feeds under an older serve: %v, want a refusal naming the daemon", err)
	}
	if _, _, err := runCLI(t, "migrate", "--from", db, "--to", filepath.Join(t.TempDir(), "copy.db")); err == nil || !strings.Contains(err.Error(), "of an older version") {
		t.Fatalf("migrate from under an older serve: %v, want a refusal", err)
	}
	release()
	_, stderr, err := runCLI(t, "--db", db, "feeds")
	if err != nil {
		t.Fatal(err)
	}
	_, _, want, _ := sqlite.SchemaBehind(context.Background(), db)
	if !strings.Contains(stderr, fmt.Sprintf("upgraded the database %s from schema version %d to %d", db, want-1, want)) {
		t.Errorf("the upgrade was not reported: stderr %q", stderr)
	}
	if _, stderr, _ := runCLI(t, "--db", db, "feeds"); stderr != "" {
		t.Errorf("a second run reports %q", stderr)
	}
	if behind, have, want, err := sqlite.SchemaBehind(context.Background(), db); err != nil || behind || have != want {
		t.Errorf("after the daemon stopped: behind %v, version %d of %d, %v; want upgraded", behind, have, want, err)
	}
}
