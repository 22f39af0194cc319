package codec

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"strings"
	"time"

	"github.com/storyline/storyline/feeds"
)

// EntryHash covers everything the feed says about an entry, except a
// publication time that we made up ourselves for an undated entry: that
// changes on every poll and is not news.
func EntryHash(e feeds.Entry, lang string) []byte {
	h := sha256.New()
	var buf [8]byte
	str := func(s string) {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	str(e.Link)
	str(e.Title)
	str(e.Summary)
	str(e.Content)
	str(e.Author)
	str(lang)
	cats := append([]string(nil), e.Categories...)
	sort.Strings(cats)
	str(strings.Join(cats, "\x00"))
	if !e.Undated {
		str(e.Published.UTC().Format(time.RFC3339Nano))
	}
	str(e.Updated.UTC().Format(time.RFC3339Nano))
	if e.Image != "" {
		// Only when there is one, so that the entries stored before
		// images were read keep their hash, and those with one are
		// updated once, taking it.
		str(e.Image)
	}
	return h.Sum(nil)
}
