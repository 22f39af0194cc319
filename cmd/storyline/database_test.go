package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestShownDSNHidesThePassword(t *testing.T) {
	for in, want := range map[string]string{
		"storyline.db": "storyline.db",
		"postgres://news:s3cret@db.example:5432/storyline?sslmode=disable": "postgres://news:xxxxx@db.example:5432/storyline?sslmode=disable",
		"postgresql://db.example/storyline?user=news&password=s3cret":      "postgresql://db.example/storyline?password=xxxxx&user=news",
		"host=db.example dbname=storyline password=s3cret user=news":       "host=db.example dbname=storyline password=xxxxx user=news",
		"host=db.example password='s3 cret' user=news":                     "host=db.example password=xxxxx user=news",
	} {
		if got := shownDSN(in); got != want {
			t.Errorf("shownDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDatabaseSettingKinds: a keyword string is PostgreSQL, as pg_dump
// takes it; a URL of another scheme (a typo of postgres://) is refused,
// naming the problem, rather than taken as a SQLite file name and
// created.
func TestDatabaseSettingKinds(t *testing.T) {
	for dsn, want := range map[string]bool{
		"storyline.db": false, "/var/lib/storyline/storyline.db": false, "my=odd.db": false,
		"postgres://db/storyline": true, "postgresql://db/storyline": true,
		"host=127.0.0.1 port=5432 user=news dbname=storyline": true, "dbname=storyline": true,
		"connect_timeout=5 host=db.example dbname=storyline": true, "host=db password='a b c' user=news": true,
		"password=x": false, "a b=c": false, "host='unterminated": false,
	} {
		if got := isPostgres(dsn); got != want {
			t.Errorf("isPostgres(%q) = %v, want %v", dsn, got, want)
		}
	}
	dir := t.TempDir()
	t.Chdir(dir)
	_, err := openDatabase(context.Background(), "postgress://news:s3cret@127.0.0.1:1/storyline", false)
	if err == nil || !strings.Contains(err.Error(), "not a postgres:// or postgresql:// URL") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a mistyped scheme: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a mistyped scheme created %v", ents)
	}
}

// TestLeaseOutlastsARound: a lease shorter than a round of polls can take
// is refused, naming the settings to change.
func TestLeaseOutlastsARound(t *testing.T) {
	c := DefaultConfig()
	if err := checkLease(c); err != nil {
		t.Errorf("the defaults: %v", err)
	}
	c.Poll.Lease = time.Minute
	if err := checkLease(c); err == nil || !strings.Contains(err.Error(), "poll.lease 1m0s is shorter") || !strings.Contains(err.Error(), "fetch.timeout") {
		t.Errorf("a 1 min lease with 30 s fetches: %v", err)
	}
}
