package cluster

import (
	"strings"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/french"
	"github.com/kljensen/snowball/hungarian"
	"github.com/kljensen/snowball/norwegian"
	"github.com/kljensen/snowball/russian"
	"github.com/kljensen/snowball/spanish"
	"github.com/kljensen/snowball/swedish"
)

// language bundles what the analyzer needs for one language. stem is nil for
// languages Snowball (as packaged by kljensen/snowball) does not cover: their
// words are still tokenized, case-folded and stopword-filtered, just not
// stemmed.
type language struct {
	stem func(word string, stemStopWords bool) string
	stop func(word string) bool
}

// The Snowball packages carry the standard Snowball stopword lists. English
// gets a few news-wire words on top: reporting verbs and modal verbs are in
// nearly every story and would otherwise only be discounted once the IDF has
// seen enough documents.
var (
	langEnglish   = &language{english.Stem, isEnglishStop}
	langSpanish   = &language{spanish.Stem, spanish.IsStopWord}
	langFrench    = &language{french.Stem, isFrenchStop}
	langRussian   = &language{russian.Stem, russian.IsStopWord}
	langSwedish   = &language{swedish.Stem, swedish.IsStopWord}
	langNorwegian = &language{norwegian.Stem, norwegian.IsStopWord}
	langHungarian = &language{hungarian.Stem, hungarian.IsStopWord}
	langGerman    = &language{nil, wordSet(germanStop)}
	langItalian   = &language{nil, wordSet(italianStop)}
	langPortug    = &language{nil, wordSet(portugueseStop)}
	langDutch     = &language{nil, wordSet(dutchStop)}
	langOther     = &language{nil, func(string) bool { return false }}
)

// lookupLanguage maps a language tag ("en", "en-US", "pt_BR", "English") to
// the analyzer's language. An empty tag means English, the common case for
// feeds that do not declare one; an unknown tag is not an error, it only
// turns stemming and stopwords off.
func lookupLanguage(tag string) *language {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	switch tag {
	case "", "en", "eng", "english":
		return langEnglish
	case "es", "spa", "spanish":
		return langSpanish
	case "fr", "fra", "fre", "french":
		return langFrench
	case "ru", "rus", "russian":
		return langRussian
	case "sv", "swe", "swedish":
		return langSwedish
	case "no", "nb", "nn", "nor", "nob", "nno", "norwegian":
		return langNorwegian
	case "hu", "hun", "hungarian":
		return langHungarian
	case "de", "deu", "ger", "german":
		return langGerman
	case "it", "ita", "italian":
		return langItalian
	case "pt", "por", "portuguese":
		return langPortug
	case "nl", "nld", "dut", "dutch":
		return langDutch
	}
	return langOther
}

func wordSet(words string) func(string) bool {
	set := make(map[string]struct{})
	for _, w := range strings.Fields(words) {
		set[w] = struct{}{}
	}
	return func(w string) bool { _, ok := set[w]; return ok }
}

var englishExtra = wordSet(`said says say saying told according also would could
	might must may shall can cannot will just one two three many much another
	however although though yet still even ever every since within without
	around across upon via per among amid like us new get got make made
	mr mrs ms dr year years week weeks day days today yesterday tomorrow
	monday tuesday wednesday thursday friday saturday sunday time times
	last first next people`)

// The Snowball French list lacks "les", the commonest plural article.
var frenchExtra = wordSet(`les selon après avant contre depuis`)

func isFrenchStop(w string) bool { return french.IsStopWord(w) || frenchExtra(w) }

func isEnglishStop(w string) bool { return english.IsStopWord(w) || englishExtra(w) }

// Short lists for languages without a Snowball stemmer here, so that their
// function words do not dominate the first topics before the IDF learns them.
const germanStop = `der die das den dem des ein eine einer eines einem einen und
	oder aber nicht ist sind war waren wird werden wurde wurden hat haben hatte
	mit von zu zum zur im in an am auf aus bei nach vor für über unter um als
	auch es er sie wir ihr ich du sich sein seine ihre dass wie so noch nur
	schon bis durch gegen ohne mehr sehr kann können soll man wenn was wer`

const italianStop = `il lo la i gli le un uno una di a da in con su per tra fra
	e o ma non che chi cui è sono era erano sia stato stata del della dei degli
	delle al alla ai agli alle dal dalla nel nella nei sul sulla come anche più
	si ci ne ha hanno aveva questo questa quello quella suo sua loro`

const portugueseStop = `o a os as um uma uns umas de do da dos das em no na nos
	nas por para com sem e ou mas não que se é são foi foram ser ao aos à às
	pelo pela pelos pelas como mais seu sua seus suas ele ela eles elas isso
	este esta esse essa também já entre sobre até`

const dutchStop = `de het een en of maar niet is zijn was waren wordt worden
	werd heeft hebben had met van te tot in op aan uit bij na voor over onder
	om als ook er hij zij wij ik je zich dat die dit wat wie hoe nog dan door
	naar maar meer zeer kan kunnen zal geen`
