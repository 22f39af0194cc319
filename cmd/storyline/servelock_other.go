//go:build !unix

package main

// lockServe is the one-serve-per-database lock where flock is missing:
// none (see servelock_unix.go).
func lockServe(string) (func(), error) { return func() {}, nil }

// serveRunning is serveRunning of servelock_unix.go where flock is
// missing: no serve is known to run.
func serveRunning(string) (pid, version string, running bool) { return "", "", false }
