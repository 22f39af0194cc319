//go:build unix

package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// lockServe makes serve one per SQLite database: a second daemon on the
// same file (a systemd unit plus a run by hand) would poll every feed
// twice, at the same moment, doubling the load on every publisher. The
// lock is an flock on a file next to the database, which the kernel
// drops when the process ends, however it ends; SQLite's own locks are
// byte ranges of the database, which flock on another file never meets.
// The file stays, holding the last holder's process ID.
func lockServe(dbPath string) (release func(), err error) {
	if dbPath == ":memory:" {
		return func() {}, nil
	}
	path := dbPath + "-serve.lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, fs.ErrPermission) {
		// Made by another user (a run by hand as root next to the
		// service's own user): a lock taken through a read-only file is
		// the same lock.
		f, err = os.Open(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		// No such directory: opening the database says so, better.
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("serve lock %s: %w", path, err)
	}
	// A command's look at the lock (serveRunning) holds it for an
	// instant: a serve starting then waits that instant out.
	var err2 error
	for try := 0; try < 20; try++ {
		if err2 = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err2 == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err2 != nil {
		pid, _ := readHolder(f)
		f.Close()
		who := "another storyline serve"
		if pid != "" {
			who += " (pid " + pid + ")"
		}
		return nil, fmt.Errorf("%s is running on %s: a second one would poll every feed twice; stop it first", who, dbPath)
	}
	if err := f.Truncate(0); err == nil {
		// The holder's version, for a command that finds the database
		// locked while this serve upgrades it (refuseUpgradeUnderServe).
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"+fullVersion()+"\n"), 0)
	}
	return func() { f.Close() }, nil
}

// readHolder reads the process ID and the version that the serve holding
// a lock file wrote in it (an older serve wrote only its process ID).
func readHolder(f *os.File) (pid, version string) {
	b, _ := io.ReadAll(io.LimitReader(f, 256))
	pid, version, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(pid), strings.TrimSpace(version)
}

// serveRunning reports whether a serve holds the lock of the SQLite
// database at dbPath (see lockServe), with the process ID and version it
// wrote there. It takes the lock shared and lets go at once; a serve
// starting at that instant waits it out (lockServe).
func serveRunning(dbPath string) (pid, version string, running bool) {
	if dbPath == ":memory:" {
		return "", "", false
	}
	f, err := os.Open(dbPath + "-serve.lock")
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return "", "", false
	}
	pid, version = readHolder(f)
	return pid, version, true
}
