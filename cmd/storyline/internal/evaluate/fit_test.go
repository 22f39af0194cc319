package evaluate

import (
	"strings"
	"testing"
)

type point struct{ x, y float64 }

var pointKnobs = []Knob[point]{
	{"x", func(p *point) float64 { return p.x }, func(p *point, v float64) { p.x = v }, 1},
	{"y", func(p *point) float64 { return p.y }, func(p *point, v float64) { p.y = v }, 1},
}

// TestFitFindsOptimum: on two "files" that each depend on one knob, the
// search reaches both optima, down to the halved step.
func TestFitFindsOptimum(t *testing.T) {
	score := func(p point) []float64 {
		return []float64{-(p.x - 2.5) * (p.x - 2.5), -(p.y + 1) * (p.y + 1)}
	}
	var log strings.Builder
	got := Fit(point{}, pointKnobs, FitRule{MinGain: 1e-9, MaxLoss: 1, Halvings: 1}, score, &log)
	if got != (point{2.5, -1}) {
		t.Errorf("fit %+v, want {2.5 -1}\n%s", got, log.String())
	}
	var again strings.Builder
	Fit(point{}, pointKnobs, FitRule{MinGain: 1e-9, MaxLoss: 1, Halvings: 1}, score, &again)
	if again.String() != log.String() {
		t.Error("two fits of the same inputs logged differently")
	}
}

// TestFitRefusesOneSidedGain: a move that raises the mean through one file
// while another loses more than MaxLoss is not taken, nor is a gain below
// MinGain.
func TestFitRefusesOneSidedGain(t *testing.T) {
	score := func(p point) []float64 { return []float64{3 * p.x, -2 * p.x, 0.001 * p.y} }
	var log strings.Builder
	got := Fit(point{}, pointKnobs, FitRule{MinGain: 0.01, MaxLoss: 0.5, Halvings: 1}, score, &log)
	// Each step of x raises the mean, but the second file loses 2 per
	// unit: 2 at the first step, 1 at the halved one, both over MaxLoss.
	// y's gain is below MinGain.
	if got != (point{}) {
		t.Errorf("fit moved to %+v\n%s", got, log.String())
	}
}
