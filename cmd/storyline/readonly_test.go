package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/sqlite"
)

// runUnprivileged runs this test binary as `storyline ARGS` under a user
// whom file permissions bind: root writes read-only files anyway, so as
// root the command runs as nobody. It returns stderr and the exit error.
func runUnprivileged(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := os.Args[0]
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "STORYLINE_AS_MAIN=1")
	if os.Getuid() == 0 {
		// nobody must be able to reach the binary: copy it somewhere open.
		dir, err := os.MkdirTemp("", "storyline-bin-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		os.Chmod(dir, 0o755)
		copyFile(t, bin, filepath.Join(dir, "storyline"), 0o755)
		cmd.Path = filepath.Join(dir, "storyline")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("cannot run storyline as an unprivileged user: %v", err)
	}
	return stderr.String(), err
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// openDir is a directory anyone may read, which the test then makes
// read-only or leaves writable.
func openDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "storyline-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755); os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	return dir
}

// TestReadOnlyDatabaseFailsFirst: a database that cannot be written is
// reported at once, naming the file or its directory, before any feed is
// fetched (it used to fetch every feed, then fail every save with "attempt
// to write a readonly database").
func TestReadOnlyDatabaseFailsFirst(t *testing.T) {
	var fetched atomic.Int32
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<rss version="2.0"><channel><title>T</title><item><title>One</title><guid>1</guid></item></channel></rss>`)
	}))
	defer src.Close()

	// A read-only database file in a writable directory.
	dir := openDir(t)
	path := filepath.Join(dir, "ro.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"/a.xml", "/b.xml"} {
		if _, err := db.AddFeed(context.Background(), store.NewFeed{URL: src.URL + u}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	os.Chmod(path, 0o444)
	stderr, err := runUnprivileged(t, "--db", path, "poll", "--all")
	if err == nil || !strings.Contains(stderr, "database "+path+" is not writable") {
		t.Errorf("poll --all on a read-only file: %v, stderr %q", err, stderr)
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("%d feeds fetched before the read-only database was noticed", n)
	}
	// Reading it still works.
	if stderr, err := runUnprivileged(t, "--db", path, "feeds"); err != nil {
		t.Errorf("feeds on a read-only file: %v %s", err, stderr)
	}

	// A new database in a directory that cannot be written.
	roDir := openDir(t)
	os.Chmod(roDir, 0o555)
	newPath := filepath.Join(roDir, "new.db")
	stderr, err = runUnprivileged(t, "--db", newPath, "add", src.URL+"/a.xml")
	if err == nil || !strings.Contains(stderr, "directory "+roDir+" of database new.db is not writable") {
		t.Errorf("add into a read-only directory: %v, stderr %q", err, stderr)
	}
}
