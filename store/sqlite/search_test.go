package sqlite

import (
	"context"
	"testing"
)

func TestSearchControlCharacters(t *testing.T) {
	db := openTest(t)
	if _, err := db.Search(context.Background(), "a\x00b", 0); err != nil {
		t.Errorf("search with a NUL: %v", err)
	}
}
