// Package migration reads a backend's embedded, numbered migration files
// (NNNN_name.sql), which each backend applies in its own way: both must
// refuse a gap or a badly named file the same way.
package migration

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// File is one migration: its number, file name and SQL.
type File struct {
	Version int
	Name    string
	SQL     string
}

// Load reads the migrations in dir of fsys, in order, and checks that
// they are numbered 1..n.
func Load(fsys fs.FS, dir string) ([]File, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []File
	for _, e := range ents {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, File{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations are not numbered 1..n: %s", m.Name)
		}
	}
	return ms, nil
}
