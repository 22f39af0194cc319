package evaluate

import (
	"math"
	"sort"
)

// Score compares a predicted clustering with the gold one; gold[i] and
// pred[i] are the labels of document i. Speed fields are left zero.
func Score[G, P comparable](gold []G, pred []P) *Report {
	n := len(gold)
	rep := &Report{Docs: n}
	if n == 0 {
		return rep
	}
	// Contingency table: gold cluster × predicted cluster.
	gi := make(map[G]int)
	pi := make(map[P]int)
	type cell struct{ g, p int }
	joint := make(map[cell]int)
	gIdx := make([]int, n)
	pIdx := make([]int, n)
	for i := 0; i < n; i++ {
		g, ok := gi[gold[i]]
		if !ok {
			g = len(gi)
			gi[gold[i]] = g
		}
		p, ok := pi[pred[i]]
		if !ok {
			p = len(pi)
			pi[pred[i]] = p
		}
		gIdx[i], pIdx[i] = g, p
		joint[cell{g, p}]++
	}
	gSize := make([]int, len(gi))
	pSize := make([]int, len(pi))
	for i := 0; i < n; i++ {
		gSize[gIdx[i]]++
		pSize[pIdx[i]]++
	}
	rep.GoldClusters, rep.PredictedClusters = len(gi), len(pi)

	// B-cubed: per document, the share of its predicted cluster that is in
	// its gold cluster (precision) and the share of its gold cluster that is
	// in its predicted cluster (recall); averaged over documents.
	var bp, br float64
	for i := 0; i < n; i++ {
		both := float64(joint[cell{gIdx[i], pIdx[i]}])
		bp += both / float64(pSize[pIdx[i]])
		br += both / float64(gSize[gIdx[i]])
	}
	rep.BCubedPrecision, rep.BCubedRecall = bp/float64(n), br/float64(n)
	rep.BCubedF1 = f1(rep.BCubedPrecision, rep.BCubedRecall)

	// Pairs.
	pairs := func(k int) float64 { return float64(k) * float64(k-1) / 2 }
	var sumJoint, sumG, sumP float64
	for _, k := range joint {
		sumJoint += pairs(k) // integers: exact in any order
	}
	for _, k := range gSize {
		sumG += pairs(k)
	}
	for _, k := range pSize {
		sumP += pairs(k)
	}
	rep.PairwisePrecision, rep.PairwiseRecall = 1, 1
	if sumP > 0 {
		rep.PairwisePrecision = sumJoint / sumP
	}
	if sumG > 0 {
		rep.PairwiseRecall = sumJoint / sumG
	}
	rep.PairwiseF1 = f1(rep.PairwisePrecision, rep.PairwiseRecall)

	// Adjusted Rand index (Hubert & Arabie).
	total := pairs(n)
	expected := 0.0
	if total > 0 {
		expected = sumG * sumP / total
	}
	maxIdx := (sumG + sumP) / 2
	switch {
	case maxIdx == expected:
		// Both clusterings are trivial in the same way (e.g. all singletons
		// on both sides): identical partitions agree perfectly.
		rep.ARI = 1
		if sumJoint != expected {
			rep.ARI = 0
		}
	default:
		rep.ARI = (sumJoint - expected) / (maxIdx - expected)
	}

	// NMI with the arithmetic mean of the entropies (natural log).
	fn := float64(n)
	var mi, hg, hp float64
	// Sum in a fixed order so that the same input gives the same bits.
	cells := make([]cell, 0, len(joint))
	for c := range joint {
		cells = append(cells, c)
	}
	sort.Slice(cells, func(i, j int) bool {
		if cells[i].g != cells[j].g {
			return cells[i].g < cells[j].g
		}
		return cells[i].p < cells[j].p
	})
	for _, c := range cells {
		k := joint[c]
		pxy := float64(k) / fn
		px := float64(gSize[c.g]) / fn
		py := float64(pSize[c.p]) / fn
		mi += pxy * math.Log(pxy/(px*py))
	}
	for _, k := range gSize {
		p := float64(k) / fn
		hg -= p * math.Log(p)
	}
	for _, k := range pSize {
		p := float64(k) / fn
		hp -= p * math.Log(p)
	}
	if hg+hp == 0 {
		rep.NMI = 1 // both are one single cluster
	} else {
		rep.NMI = math.Max(0, mi/((hg+hp)/2))
	}
	return rep
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}
