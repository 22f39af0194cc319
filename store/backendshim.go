package store

import (
	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
)

// What every backend shares, exported for store/postgres until the split
// of this package (store/internal/codec) lands; this file then goes.

// EntryHash is entryHash for other backends.
func EntryHash(e feeds.Entry, lang string) []byte { return entryHash(e, lang) }

// AppendTopicState is appendTopicState for other backends.
func AppendTopicState(b []byte, ts cluster.TopicState) []byte { return appendTopicState(b, ts) }

// DecodeTopicState is decodeTopicState for other backends.
func DecodeTopicState(b []byte) (cluster.TopicState, error) { return decodeTopicState(b) }

// MovedSecret is movedSecret for other backends.
func MovedSecret(oldURL, newURL, oldSecret, newSecret string) string {
	return movedSecret(oldURL, newURL, oldSecret, newSecret)
}
