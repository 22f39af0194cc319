//go:build !unix

package main

// lockServe is the one-serve-per-database lock where flock is missing:
// none (see servelock_unix.go).
func lockServe(string) (func(), error) { return func() {}, nil }
