package cluster

import (
	"strings"
	"sync"
)

//go:generate go run ./internal/gencountries

// countryName is one way of naming a country: its name, a former name, an
// abbreviation or its demonym, with its ISO 3166-1 code (countryNames, made
// from maintained data by internal/gencountries).
type countryName struct {
	name, code string
}

// countries maps a country's names and demonyms, tokenized and joined by
// spaces ("united kingdom", "uk", "british"), to its code. Outlets name a
// country one way in one headline and another in the next ("Britain,
// France and Germany draft ..." against "British, French and German
// officials ..."); read as one term, the two share what they say.
// countryLeads are the first words of the names of several words, and
// maxCountryWords the most words of a name. They are made on first use
// (loadCountries), not at start-up: tokenizing the table takes about half
// a millisecond that a command which clusters nothing need not pay.
var (
	countryOnce     sync.Once
	countries       map[string]string
	countryLeads    map[string]bool
	maxCountryWords int
)

func loadCountries() {
	countries, countryLeads, maxCountryWords = countryIndex(countryNames)
}

func countryIndex(names []countryName) (map[string]string, map[string]bool, int) {
	m := make(map[string]string, len(names))
	leads := make(map[string]bool)
	ambiguous := make(map[string]bool)
	longest := 0
	for _, cn := range names {
		toks := tokenize(cn.name)
		if len(toks) == 0 {
			continue
		}
		words := make([]string, len(toks))
		for i := range toks {
			words[i] = toks[i].lower
		}
		key := strings.Join(words, " ")
		if code, ok := m[key]; ok && code != cn.code {
			ambiguous[key] = true // two countries' names that tokenize alike
		}
		m[key] = cn.code
		if len(toks) > 1 {
			leads[words[0]] = true
		}
		longest = max(longest, len(toks))
	}
	for key := range ambiguous {
		delete(m, key)
	}
	return m, leads, longest
}

// countryTerm is the term of a country: one that no word stems to.
func countryTerm(code string) string { return "#" + code }

// isCountryTerm reports whether a term is a country's (countryTerm).
func isCountryTerm(term string) bool { return strings.HasPrefix(term, "#") }

// countryAt returns the code of the country named at toks[i] and the number
// of tokens of its longest name there, or 0. A name starts with a capital;
// a short one ("US", "UK") must be written in capitals, so that the pronoun
// "us" is not the United States.
func countryAt(toks []token, i int) (string, int) {
	t := &toks[i]
	if !t.cap {
		return "", 0
	}
	countryOnce.Do(loadCountries)
	code, n := "", 0
	if c, ok := countries[t.lower]; ok && (len(t.lower) > 3 || t.allCaps) {
		code, n = c, 1
	}
	if !countryLeads[t.lower] {
		return code, n
	}
	key := t.lower
	for j := i + 1; j < len(toks) && j < i+maxCountryWords && toks[j].joined; j++ {
		key += " " + toks[j].lower
		if c, ok := countries[key]; ok {
			code, n = c, j-i+1
		}
	}
	return code, n
}
