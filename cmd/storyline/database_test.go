package main

import "testing"

func TestShownDSNHidesThePassword(t *testing.T) {
	for in, want := range map[string]string{
		"storyline.db": "storyline.db",
		"postgres://news:s3cret@db.example:5432/storyline?sslmode=disable": "postgres://news:xxxxx@db.example:5432/storyline?sslmode=disable",
		"postgresql://db.example/storyline?user=news&password=s3cret":      "postgresql://db.example/storyline?password=xxxxx&user=news",
	} {
		if got := shownDSN(in); got != want {
			t.Errorf("shownDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
