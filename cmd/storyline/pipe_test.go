//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestImportFromPipe: an OPML file that cannot be read twice (a pipe,
// import /dev/stdin) is imported as it comes; the read-through that keeps
// a non-OPML file from creating a database is for regular files.
func TestImportFromPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "subs.opml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		f.WriteString(`<?xml version="1.0"?><opml version="2.0"><body>` +
			`<outline type="rss" text="A" xmlUrl="https://a.example/feed"/></body></opml>`)
	}()
	out := mustRun(t, "--db", filepath.Join(dir, "p.db"), "import", fifo)
	if !strings.Contains(out, "imported 1 feed (0 already subscribed, 0 skipped)") {
		t.Errorf("import from a pipe: %q", out)
	}
}
