package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/cmd/storyline/internal/demo"
	"github.com/storyline/storyline/store/postgres"
	"github.com/storyline/storyline/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestGoldenPagesOnPostgres: the demo on PostgreSQL gives the same front
// page and storyline page, byte for byte, as the golden files made on
// SQLite; its search finds the same stories (each backend ranks its own
// way, so only their set is compared).
func TestGoldenPagesOnPostgres(t *testing.T) {
	db, err := postgres.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return demo.Newest.Add(2 * time.Hour) }
	pages := goldenPages(t, demoServerOn(t, db))
	for _, name := range []string{"front.html", "topic.html"} {
		want, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		if pages[name] != string(want) {
			t.Errorf("%s on PostgreSQL differs from the golden file made on SQLite", name)
		}
	}
	want, err := os.ReadFile(filepath.Join("testdata", "golden", "search.html"))
	if err != nil {
		t.Fatal(err)
	}
	hits := func(page string) map[string]bool {
		out := map[string]bool{}
		for _, part := range strings.Split(page, `href="`)[1:] {
			link, _, _ := strings.Cut(part, `"`)
			out[link] = true
		}
		return out
	}
	got, exp := hits(pages["search.html"]), hits(string(want))
	if len(got) != len(exp) {
		t.Errorf("search on PostgreSQL links %d pages, on SQLite %d", len(got), len(exp))
	}
	for l := range exp {
		if !got[l] {
			t.Errorf("search on PostgreSQL lacks %s", l)
		}
	}
}
