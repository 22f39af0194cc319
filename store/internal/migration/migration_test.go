package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	ms, err := Load(fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A")}, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "0001_a.sql" || ms[1].SQL != "B" || ms[1].Version != 2 {
		t.Fatalf("Load = %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"a gap":      {"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")},
		"a bad name": {"m/0001_a.sql": file("A"), "m/two.sql": file("B")},
		"not SQL":    {"m/0001_a.txt": file("A")},
	} {
		if _, err := Load(fsys, "m"); err == nil || !strings.Contains(err.Error(), "migration") {
			t.Errorf("%s: Load = %v, want an error about the migrations", name, err)
		}
	}
}
