package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTableUpToDate: the committed table is what the committed inputs give.
func TestTableUpToDate(t *testing.T) {
	got, err := generate("data/countries-list.json", "data/i18n-nationality-en.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../countries.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("cluster/countries.go differs from what gencountries makes of data/: run go generate ./cluster")
	}
}

// TestRules: notes, plurals, ranks and ambiguity, on inputs of our own.
func TestRules(t *testing.T) {
	dir := t.TempDir()
	countries := filepath.Join(dir, "c.json")
	nationalities := filepath.Join(dir, "n.json")
	os.WriteFile(countries, []byte(`{
		"FR": {"name": "France"},
		"GF": {"name": "French Guiana"},
		"MM": {"name": "Myanmar", "alias": ["Burma", "Myanmar (Burma)"]},
		"DM": {"name": "Dominica"},
		"DO": {"name": "Dominican Republic"},
		"PS": {"name": "Palestine", "alias": ["Palestinian Territory, Occupied"]}
	}`), 0o644)
	os.WriteFile(nationalities, []byte(`{"nationalities": {
		"FR": "French",
		"GF": "French (French Guiana)",
		"MM": "Burmese",
		"DM": "Dominican (Dominica)",
		"DO": "Dominican (Dominican Republic)",
		"BA": "Bosnian - Herzegovinian",
		"IL": "Israeli"
	}}`), 0o644)
	src, err := generate(countries, nationalities)
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{
		`{"French", "fr"}`, `{"French Guiana", "gf"}`, `{"Myanmar", "mm"}`, `{"Burma", "mm"}`,
		`{"Bosnian", "ba"}`, `{"Herzegovinian", "ba"}`, `{"Bosnians", "ba"}`, `{"Israelis", "il"}`,
		`{"Palestine", "ps"}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %s", want)
		}
	}
	for _, unwanted := range []string{`"Dominican"`, `"fr"}` + "\n\t{\"French\", \"gf\"", `Occupied`, `"Burmeses"`, `"Frenchs"`} {
		if strings.Contains(s, unwanted) {
			t.Errorf("table holds %s", unwanted)
		}
	}
	if strings.Count(s, `{"Myanmar", "mm"}`) != 1 {
		t.Error("Myanmar listed twice")
	}
}

// TestBadInput names the file that is not JSON.
func TestBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	if _, err := generate(bad, "data/i18n-nationality-en.json"); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("error %v does not name bad.json", err)
	}
}
