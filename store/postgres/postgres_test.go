package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/store/internal/searchtext"
	"github.com/storyline/storyline/store/postgres/pgtest"
	"github.com/storyline/storyline/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openTest opens a new database of its own for t, with the clock now.
func openTest(t *testing.T, now func() time.Time) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	db.Now = now
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the one store suite on PostgreSQL.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Store { return openTest(t, now) })
}

// TestSearchTextAgrees: the SQL function that entries.search indexes
// through writes Chinese and Japanese text as searchtext.Index does, which
// Search relies on when it rewrites a query the Go way.
func TestSearchTextAgrees(t *testing.T) {
	db := openTest(t, time.Now)
	ctx := context.Background()
	for _, s := range []string{
		"", "Storm closes harbour", "国际会议在北京举行。", "Apple发布新款iPhone", "猫", "台风",
		"東京で地震、震度5弱", "Café 한국어 text", "𠀋𠀌 and 々〆〇", "ﾃｽﾄ ｰ", "ア", "a国b际c",
		"新型iPhoneを発表\nアップルは東京の店舗で", "ＦＴＡ交渉で震度６強", "ｶﾞｲﾄﾞ ﬁnal ① Café\u0301", "ＡＩ強化", "\u3004\u3008\u309f\u30a0\u4dc0\u9fff\ufb00\U0003134f\U00031350",
		// An article's length (about 40,000 characters), in sentences and
		// in one run without punctuation.
		strings.Repeat("国际会议在北京举行。Talks go on. ", 2500), strings.Repeat("国际会议在北京举行", 4000),
	} {
		var got string
		if err := db.pool.QueryRow(ctx, "SELECT storyline_search_text($1)", s).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := searchtext.Index(s); got != want {
			t.Errorf("storyline_search_text(%.40q...) differs from searchtext.Index at byte %d", s, mismatch(got, want))
		}
	}
}

// mismatch is the index of the first byte where a and b differ.
func mismatch(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
