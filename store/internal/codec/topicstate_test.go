package codec

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
)

// filled sets every field of v, however deep, to a value that is not its
// zero value, so that a field the binary form forgets fails the round trip.
func filled(v reflect.Value, seed *int) {
	*seed++
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 1, 10, 0, *seed, 123456789, time.UTC)))
			return
		}
		for i := range v.NumField() {
			filled(v.Field(i), seed)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			filled(s.Index(i), seed)
		}
		v.Set(s)
	case reflect.String:
		v.SetString("é" + string(rune('a'+*seed%26)))
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(-*seed * 1000))
	case reflect.Float64:
		v.SetFloat(float64(*seed) / 3)
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic("filled: add " + v.Kind().String())
	}
}

func TestTopicStateRoundTrip(t *testing.T) {
	var ts cluster.TopicState
	seed := 0
	filled(reflect.ValueOf(&ts).Elem(), &seed)
	ts.Size = 7 // an int the encoder writes as is, whatever its sign
	b := AppendTopicState(nil, ts)
	got, err := DecodeTopicState(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ts) {
		t.Errorf("round trip changed the state:\n got %+v\nwant %+v", got, ts)
	}
	// The zero state, with zero times and no terms.
	if got, err := DecodeTopicState(AppendTopicState(nil, cluster.TopicState{})); err != nil || !reflect.DeepEqual(got, cluster.TopicState{}) {
		t.Errorf("zero state: %+v, %v", got, err)
	}
	// A state stored as JSON by an earlier version reads the same.
	js, _ := json.Marshal(ts)
	if got, err := DecodeTopicState(js); err != nil || !reflect.DeepEqual(got, ts) {
		t.Errorf("JSON state: %v\n got %+v", err, got)
	}
	if len(b)*2 > len(js) {
		t.Errorf("binary state is %d bytes, JSON %d: not much smaller", len(b), len(js))
	}
	// Every truncation is an error, never a panic or a silent cut.
	for n := 1; n < len(b); n++ {
		if _, err := DecodeTopicState(b[:n]); err == nil {
			t.Fatalf("state cut to %d of %d bytes decoded without an error", n, len(b))
		}
	}
}

func FuzzDecodeTopicState(f *testing.F) {
	var ts cluster.TopicState
	seed := 0
	filled(reflect.ValueOf(&ts).Elem(), &seed)
	f.Add(AppendTopicState(nil, ts))
	f.Add(AppendTopicState(nil, cluster.TopicState{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeTopicState(b)
		if err != nil || len(b) == 0 || b[0] != topicStateBinary {
			return
		}
		// What decodes encodes into a form that decodes the same (the
		// input's bytes may differ: a number can be written in more than
		// one way). Compared encoded, since a NaN is not equal to itself.
		canon := AppendTopicState(nil, got)
		again, err := DecodeTopicState(canon)
		if err != nil || string(AppendTopicState(nil, again)) != string(canon) {
			t.Fatalf("%x: decoded %+v, re-encoded and decoded %+v (%v)", b, got, again, err)
		}
	})
}
