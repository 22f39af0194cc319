// Package codec holds the encodings every storage backend shares, so that
// a database copied from one backend to another (storyline migrate) keeps
// its meaning: the binary form of a topic's state and the hash that tells
// an edited entry from an unchanged one.
package codec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/storyline/storyline/cluster"
)

// A topic's state (its centroid: up to cluster.Config.MaxTopicTerms terms
// with their weights and spellings) is most of what a database holds. As
// JSON, with every field name spelled out per term and float64s in
// decimal, it took 16.7 KB per topic: 38 MB of a 116 MB database after the
// 50,000 stories of the gen_feeds load. The binary form below holds the
// same values (float64s bit for bit) in about a third of that, and costs
// less to write and read. States written as JSON before are still read;
// they are rewritten in binary when their topic next changes.

// topicStateBinary leads the binary form; a JSON state starts with '{'.
const topicStateBinary = 0x01

// AppendTopicState appends ts in the binary form to b.
func AppendTopicState(b []byte, ts cluster.TopicState) []byte {
	e := stateEncoder{b: append(b, topicStateBinary)}
	e.varint(ts.ID)
	e.varint(int64(ts.Size))
	e.time(ts.First)
	e.time(ts.Last)
	e.time(ts.Kept)
	e.float(ts.EffectiveTerms)
	e.str(ts.Label)
	e.str(ts.HeadlineID)
	e.str(ts.Headline)
	e.str(ts.HeadlineLanguage)
	e.bool(ts.Suspect)
	e.varint(ts.SplitFrom)
	e.uvarint(uint64(len(ts.Terms)))
	for _, t := range ts.Terms {
		e.str(t.Term)
		e.float(t.Weight)
		e.uvarint(uint64(len(t.Forms)))
		for _, f := range t.Forms {
			e.str(f.Text)
			e.varint(int64(f.Count))
			e.varint(int64(f.Cased))
			e.varint(int64(f.Lower))
			e.str(f.CasedText)
		}
	}
	e.uvarint(uint64(len(ts.HeadlineTerms)))
	for _, t := range ts.HeadlineTerms {
		e.str(t.Term)
		e.float(t.Weight)
	}
	return e.b
}

// DecodeTopicState reads a state in either form.
func DecodeTopicState(b []byte) (cluster.TopicState, error) {
	var ts cluster.TopicState
	if len(b) > 0 && b[0] == '{' {
		err := json.Unmarshal(b, &ts)
		return ts, err
	}
	if len(b) == 0 || b[0] != topicStateBinary {
		return ts, errors.New("unknown state format")
	}
	d := stateDecoder{b: b[1:]}
	ts.ID = d.varint()
	ts.Size = int(d.varint())
	ts.First = d.time()
	ts.Last = d.time()
	ts.Kept = d.time()
	ts.EffectiveTerms = d.float()
	ts.Label = d.str()
	ts.HeadlineID = d.str()
	ts.Headline = d.str()
	ts.HeadlineLanguage = d.str()
	ts.Suspect = d.bool()
	ts.SplitFrom = d.varint()
	if n := d.count(); n > 0 {
		ts.Terms = make([]cluster.TopicTerm, n)
		for i := range ts.Terms {
			t := &ts.Terms[i]
			t.Term = d.str()
			t.Weight = d.float()
			if m := d.count(); m > 0 {
				t.Forms = make([]cluster.Form, m)
				for j := range t.Forms {
					f := &t.Forms[j]
					f.Text = d.str()
					f.Count = d.int32()
					f.Cased = d.int32()
					f.Lower = d.int32()
					f.CasedText = d.str()
				}
			}
		}
	}
	if n := d.count(); n > 0 {
		ts.HeadlineTerms = make([]cluster.TermWeight, n)
		for i := range ts.HeadlineTerms {
			ts.HeadlineTerms[i] = cluster.TermWeight{Term: d.str(), Weight: d.float()}
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the end", len(d.b))
	}
	return ts, d.err
}

type stateEncoder struct{ b []byte }

func (e *stateEncoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *stateEncoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *stateEncoder) float(v float64) {
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v))
}
func (e *stateEncoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *stateEncoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// time writes 0 for the zero time, else 1 and the Unix time in
// nanoseconds (story times are far inside its range).
func (e *stateEncoder) time(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.varint(t.UnixNano())
}

// stateDecoder reads what stateEncoder wrote. The first error sticks, and
// every read after it returns a zero value, so the caller checks once.
type stateDecoder struct {
	b   []byte
	err error
}

func (d *stateDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("truncated or corrupt %s", what)
	}
	d.b = nil
}

func (d *stateDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *stateDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *stateDecoder) int32() int32 {
	v := d.varint()
	if v != int64(int32(v)) {
		d.fail("count")
		return 0
	}
	return int32(v)
}

// count reads a length and checks it against what is left, at least a
// byte per element, so that a corrupt length cannot ask for gigabytes.
func (d *stateDecoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.fail("length")
		return 0
	}
	return int(v)
}

func (d *stateDecoder) float() float64 {
	if len(d.b) < 8 {
		d.fail("number")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *stateDecoder) str() string {
	n := d.count()
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *stateDecoder) bool() bool {
	if len(d.b) < 1 || d.b[0] > 1 {
		d.fail("flag")
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func (d *stateDecoder) time() time.Time {
	if len(d.b) < 1 || d.b[0] > 1 {
		d.fail("time")
		return time.Time{}
	}
	set := d.b[0] == 1
	d.b = d.b[1:]
	if !set {
		return time.Time{}
	}
	return time.Unix(0, d.varint()).UTC()
}
