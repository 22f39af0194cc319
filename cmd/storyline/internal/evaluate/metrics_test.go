package evaluate

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScoreHandComputed(t *testing.T) {
	// gold {1,2} {3,4}; predicted {1,2,3} {4}.
	rep := Score([]string{"a", "a", "b", "b"}, []int{1, 1, 1, 2})
	mi := 0.5*math.Log(4.0/3) + 0.25*math.Log(2.0/3) + 0.25*math.Log(2)
	hg := math.Log(2)
	hp := -(0.75*math.Log(0.75) + 0.25*math.Log(0.25))
	want := Report{
		Docs:            4,
		BCubedPrecision: 2.0 / 3, BCubedRecall: 3.0 / 4, BCubedF1: 12.0 / 17,
		PairwisePrecision: 1.0 / 3, PairwiseRecall: 1.0 / 2, PairwiseF1: 0.4,
		ARI: 0, NMI: mi / ((hg + hp) / 2),
		PredictedClusters: 2, GoldClusters: 2,
	}
	check(t, rep, want)
}

func TestScoreEdgeCases(t *testing.T) {
	gold := []string{"a", "a", "a", "b", "b", "c"}
	t.Run("identical", func(t *testing.T) {
		rep := Score(gold, []int{7, 7, 7, 8, 8, 9})
		check(t, rep, Report{Docs: 6, BCubedPrecision: 1, BCubedRecall: 1, BCubedF1: 1,
			PairwisePrecision: 1, PairwiseRecall: 1, PairwiseF1: 1, ARI: 1, NMI: 1,
			PredictedClusters: 3, GoldClusters: 3})
	})
	t.Run("all singletons", func(t *testing.T) {
		rep := Score(gold, []int{1, 2, 3, 4, 5, 6})
		r := (3*(1.0/3) + 2*(1.0/2) + 1) / 6
		check(t, rep, Report{Docs: 6, BCubedPrecision: 1, BCubedRecall: r, BCubedF1: 2 * r / (1 + r),
			PairwisePrecision: 1, PairwiseRecall: 0, PairwiseF1: 0, ARI: 0,
			NMI: rep.NMI, PredictedClusters: 6, GoldClusters: 3})
		if rep.NMI <= 0.5 || rep.NMI >= 1 {
			t.Errorf("NMI of singletons = %v, want in (0.5, 1): NMI rewards splitting", rep.NMI)
		}
	})
	t.Run("one cluster", func(t *testing.T) {
		rep := Score(gold, []int{1, 1, 1, 1, 1, 1})
		p := (3*(3.0/6) + 2*(2.0/6) + 1.0/6) / 6
		check(t, rep, Report{Docs: 6, BCubedPrecision: p, BCubedRecall: 1, BCubedF1: 2 * p / (1 + p),
			PairwisePrecision: 4.0 / 15, PairwiseRecall: 1, PairwiseF1: 2 * (4.0 / 15) / (1 + 4.0/15),
			ARI: 0, NMI: 0, PredictedClusters: 1, GoldClusters: 3})
	})
	t.Run("both singletons", func(t *testing.T) {
		rep := Score([]string{"a", "b"}, []int{1, 2})
		if rep.ARI != 1 || rep.NMI != 1 || rep.BCubedF1 != 1 || rep.PairwiseF1 != 1 {
			t.Errorf("%+v", rep)
		}
	})
	t.Run("both one cluster", func(t *testing.T) {
		rep := Score([]string{"a", "a", "a"}, []int{1, 1, 1})
		if rep.ARI != 1 || rep.NMI != 1 || rep.BCubedF1 != 1 || rep.PairwiseF1 != 1 {
			t.Errorf("%+v", rep)
		}
	})
	t.Run("empty", func(t *testing.T) {
		if rep := Score([]string{}, []int{}); rep.Docs != 0 {
			t.Errorf("%+v", rep)
		}
	})
}

func check(t *testing.T, got *Report, want Report) {
	t.Helper()
	pairs := []struct {
		name      string
		got, want float64
	}{
		{"bcubed_precision", got.BCubedPrecision, want.BCubedPrecision},
		{"bcubed_recall", got.BCubedRecall, want.BCubedRecall},
		{"bcubed_f1", got.BCubedF1, want.BCubedF1},
		{"pairwise_precision", got.PairwisePrecision, want.PairwisePrecision},
		{"pairwise_recall", got.PairwiseRecall, want.PairwiseRecall},
		{"pairwise_f1", got.PairwiseF1, want.PairwiseF1},
		{"ari", got.ARI, want.ARI},
		{"nmi", got.NMI, want.NMI},
	}
	for _, p := range pairs {
		if !near(p.got, p.want) {
			t.Errorf("%s = %v, want %v", p.name, p.got, p.want)
		}
	}
	if got.Docs != want.Docs || got.PredictedClusters != want.PredictedClusters || got.GoldClusters != want.GoldClusters {
		t.Errorf("counts = %d/%d/%d, want %d/%d/%d", got.Docs, got.PredictedClusters, got.GoldClusters,
			want.Docs, want.PredictedClusters, want.GoldClusters)
	}
}

const sample = `{"id": "1", "title": "Geneva peace talks open", "text": "Delegations met in Geneva.", "published": "2014-03-10T16:52:50.698Z", "source": null, "url": null, "label": "g"}
{"id": "2", "title": "Volcano erupts in Iceland", "text": "", "published": null, "source": "X", "url": "http://x", "label": "v"}
{"id": "3", "title": "Geneva peace talks stall", "text": "Delegations in Geneva disagreed.", "published": "2014-03-10T17:52:50.698Z", "source": null, "url": null, "label": "g"}
`

func TestRun(t *testing.T) {
	tick := time.Unix(0, 0)
	clock := func() time.Time { tick = tick.Add(time.Millisecond); return tick }
	rep, as, err := RunWith(strings.NewReader(sample), cluster.DefaultConfig(), Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 3 || as[0].ID != "1" || as[0].TopicID != as[2].TopicID || as[0].TopicID == as[1].TopicID {
		t.Fatalf("assignments %+v", as)
	}
	if rep.BCubedF1 != 1 || rep.Docs != 3 || rep.PredictedClusters != 2 {
		t.Errorf("report %+v", rep)
	}
	// Each Add is timed with two clock reads one millisecond apart.
	if !near(rep.Seconds, 0.003) || !near(rep.DocsPerSecond, 1000) {
		t.Errorf("seconds %v, docs/s %v", rep.Seconds, rep.DocsPerSecond)
	}
}

func TestRunErrors(t *testing.T) {
	for name, in := range map[string]string{
		"bad json":  `{"id": "1", "title": `,
		"no id":     `{"title": "x", "label": "a"}`,
		"duplicate": `{"id": "1", "title": "x", "label": "a"}` + "\n" + `{"id": "1", "title": "y", "label": "a"}`,
	} {
		if _, _, err := Run(strings.NewReader(in), cluster.DefaultConfig()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestReferencePoints checks the scorer against the README's figures for
// the trivial clusterings of the development files.
func TestReferencePoints(t *testing.T) {
	for _, tc := range []struct {
		file                 string
		singletons, oneBlock float64
	}{{"ecbplus-dev.jsonl", 0.156, 0.050}, {"uci-dev.jsonl", 0.026, 0.075}} {
		var gold []string
		for _, rec := range readDev(t, tc.file) {
			gold = append(gold, rec.Label)
		}
		single := make([]int, len(gold))
		for i := range single {
			single[i] = i
		}
		if f := Score(gold, single).BCubedF1; math.Abs(f-tc.singletons) > 0.0005 {
			t.Errorf("%s singletons: B-cubed F1 %.4f, README says %.3f", tc.file, f, tc.singletons)
		}
		if f := Score(gold, make([]int, len(gold))).BCubedF1; math.Abs(f-tc.oneBlock) > 0.0005 {
			t.Errorf("%s one cluster: B-cubed F1 %.4f, README says %.3f", tc.file, f, tc.oneBlock)
		}
	}
}

func TestRunRejectsUnusableInput(t *testing.T) {
	for name, in := range map[string]string{
		"empty":      "",
		"no label":   `{"id":"a","title":"One","text":"","published":null}` + "\n",
		"no id":      `{"title":"One","label":"x"}` + "\n",
		"not json":   "id,title\n",
		"duplicates": `{"id":"a","title":"One","label":"x"}` + "\n" + `{"id":"a","title":"Two","label":"x"}` + "\n",
	} {
		if _, _, err := Run(strings.NewReader(in), cluster.DefaultConfig()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestShuffle(t *testing.T) {
	recs, err := Read(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var many []Record
	for i := range 40 {
		r := recs[i%len(recs)]
		r.ID = fmt.Sprint(i)
		many = append(many, r)
	}
	ids := func(rs []Record) string {
		var b strings.Builder
		for _, r := range rs {
			fmt.Fprintf(&b, "%s,", r.ID)
		}
		return b.String()
	}
	orig := ids(many)
	a, b, c := Shuffle(many, 1), Shuffle(many, 1), Shuffle(many, 2)
	if ids(a) != ids(b) {
		t.Error("one seed gave two orders")
	}
	if ids(a) == ids(c) || ids(a) == ids(many) {
		t.Errorf("seeds 1 and 2 and the file order are not three orders: %s / %s", ids(a), ids(c))
	}
	seen := make(map[string]bool)
	for _, r := range a {
		if r.Published != nil {
			t.Errorf("%s kept its time", r.ID)
		}
		seen[r.ID] = true
	}
	if len(seen) != len(many) {
		t.Errorf("shuffle kept %d of %d records", len(seen), len(many))
	}
	if many[0].Published == nil || ids(many) != orig {
		t.Error("Shuffle changed its input")
	}
}

func TestSummarize(t *testing.T) {
	sp := Summarize([]*Report{
		{Docs: 10, GoldClusters: 2, BCubedF1: 0.5, PredictedClusters: 3, ARI: -0.1},
		{Docs: 10, GoldClusters: 2, BCubedF1: 0.9, PredictedClusters: 4, ARI: 0.3},
	})
	if sp.Orders != 2 || sp.Docs != 10 || sp.GoldClusters != 2 {
		t.Errorf("counts %+v", sp)
	}
	if f := sp.BCubedF1; !near(f.Mean, 0.7) || f.Min != 0.5 || f.Max != 0.9 || sp.PredictedClusters != (Stat{3.5, 3, 4}) || !near(sp.ARI.Mean, 0.1) || sp.ARI.Min != -0.1 {
		t.Errorf("stats %+v", sp)
	}
}
