package evaluate

import (
	"fmt"
	"io"
	"math"
)

// Knob is one setting Fit may move: its name, how to read and write it in a
// configuration of type C, and the step it starts moving by.
type Knob[C any] struct {
	Name string
	Get  func(*C) float64
	Set  func(*C, float64)
	Step float64
}

// FitRule is what Fit accepts as a better configuration. Scores are one per
// development file; the objective is their mean, so each file weighs the
// same whatever its size.
type FitRule struct {
	// MinGain is the least rise of the mean that counts as a gain: below
	// it, the simpler configuration (the one already held) is kept.
	MinGain float64
	// MaxLoss is the most any one file may lose: a gain on one file bought
	// with a loss on another is no gain (the method is judged on held-out
	// files of each kind).
	MaxLoss float64
	// Halvings is how many times a knob's step is halved after neither
	// direction gained.
	Halvings int
}

// Fit is a coordinate search: for each knob in turn it tries one step up
// and one step down from the best configuration so far, keeps a move the
// rule accepts and goes on in that direction, and halves the step when
// neither direction gains; it stops when a full pass over the knobs at
// their smallest steps moves nothing. score returns one score per file
// (higher is better) and must be a pure function of the configuration, so
// that Fit is deterministic: the same inputs give the same result and the
// same log. Each taken move gains at least rule.MinGain, so with a bounded
// score (B-cubed F1 is at most 1) and a positive MinGain the search ends.
// Each evaluation is written to log.
func Fit[C any](start C, knobs []Knob[C], rule FitRule, score func(C) []float64, log io.Writer) C {
	best := start
	bestScores := score(best)
	fmt.Fprintf(log, "start %s\n", formatScores(bestScores))
	steps := make([]float64, len(knobs))
	halved := make([]int, len(knobs))
	for i, k := range knobs {
		steps[i] = k.Step
	}
	for pass := 1; ; pass++ {
		moved, refined := false, false
		for i, k := range knobs {
			for {
				gained := false
				for _, dir := range []float64{+1, -1} {
					cand := best
					v := round(k.Get(&best) + dir*steps[i])
					k.Set(&cand, v)
					s := score(cand)
					ok := accepts(rule, bestScores, s)
					fmt.Fprintf(log, "pass %d  %-18s %8.4g  %s  %s\n", pass, k.Name, v, formatScores(s), verdict(ok))
					if ok {
						best, bestScores, gained, moved = cand, s, true, true
						break
					}
				}
				if gained {
					continue // go on in the same direction while it gains
				}
				if halved[i] < rule.Halvings {
					steps[i] /= 2
					halved[i]++
					refined = true
				}
				break
			}
		}
		if !moved && !refined {
			break
		}
	}
	fmt.Fprintf(log, "end   %s\n", formatScores(bestScores))
	return best
}

// accepts reports whether scores s improve on the held ones under rule.
func accepts(rule FitRule, held, s []float64) bool {
	if mean(s) < mean(held)+rule.MinGain {
		return false
	}
	for i := range s {
		if s[i] < held[i]-rule.MaxLoss {
			return false
		}
	}
	return true
}

func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// round drops the binary noise of repeated steps (0.30000000000000004).
func round(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func formatScores(s []float64) string {
	out := fmt.Sprintf("mean %.4f:", mean(s))
	for _, x := range s {
		out += fmt.Sprintf(" %.4f", x)
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return "taken"
	}
	return ""
}
