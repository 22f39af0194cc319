package evaluate

import (
	"fmt"
	"os"
	"testing"

	"github.com/storyline/storyline/cluster"
)

// TestThresholdNeighbourhood prints B-cubed F1 on the development files for
// the default configuration with one threshold moved at a time, to show the
// defaults are not on a knife edge. It is slow-ish, so it runs only with
// STORYLINE_SWEEP=1 (go test -run Neighbourhood -v).
func TestThresholdNeighbourhood(t *testing.T) {
	if os.Getenv("STORYLINE_SWEEP") == "" {
		t.Skip("set STORYLINE_SWEEP=1 to run")
	}
	ecb := readDev(t, "ecbplus-dev.jsonl")
	uci := readDev(t, "uci-dev.jsonl")
	var u [3][]Record
	for i := range u {
		u[i] = Shuffle(uci, uint64(i+1))
	}
	d := cluster.DefaultConfig()
	type knob struct {
		name string
		set  func(*cluster.Config, float64)
		vals []float64
	}
	knobs := []knob{
		{"Threshold", func(c *cluster.Config, v float64) { c.Threshold = v }, []float64{d.Threshold - 0.05, d.Threshold - 0.025, d.Threshold, d.Threshold + 0.025, d.Threshold + 0.05}},
		{"HeadlineThreshold", func(c *cluster.Config, v float64) { c.HeadlineThreshold = v }, []float64{d.HeadlineThreshold - 0.02, d.HeadlineThreshold - 0.01, d.HeadlineThreshold, d.HeadlineThreshold + 0.01, d.HeadlineThreshold + 0.02}},
		{"MergeFactor", func(c *cluster.Config, v float64) { c.MergeFactor = v }, []float64{d.MergeFactor - 0.4, d.MergeFactor - 0.2, d.MergeFactor, d.MergeFactor + 0.2, d.MergeFactor + 0.4}},
		{"AbsorbFactor", func(c *cluster.Config, v float64) { c.AbsorbFactor = v }, []float64{0.8, 0.9, d.AbsorbFactor, 1.1, 1.25, -1}},
		{"FocusShare", func(c *cluster.Config, v float64) { c.FocusShare = v }, []float64{0.05, 0.075, d.FocusShare, 0.15, 0.2, 0.3, 1}},
		{"SupportShare", func(c *cluster.Config, v float64) { c.SupportShare = v }, []float64{0.1, 0.2, d.SupportShare, 0.3, 0.4, -1}},
	}
	for _, k := range knobs {
		for _, v := range k.vals {
			cfg := d
			k.set(&cfg, v)
			re := run(t, ecb, cfg)
			line := fmt.Sprintf("%-17s %.3f  ecb %.3f", k.name, v, re.BCubedF1)
			var sum float64
			for i := range u {
				ru := run(t, u[i], cfg)
				line += fmt.Sprintf("  uci%d %.3f", i+1, ru.BCubedF1)
				sum += ru.BCubedF1
			}
			t.Logf("%s  uci-mean %.3f", line, sum/3)
		}
	}
}
