// Package cluster groups news stories into storylines (topics) as they arrive.
//
// It is pure: documents come in with their own time, assignments and labels go
// out, and nothing here reads the clock, touches the disk or imports another
// storyline package. The same stream of documents always gives the same topics,
// so a daemon that restarts from saved State continues exactly where it
// stopped, and `storyline eval` measures the very code path the daemon runs.
//
// The method, in arrival order:
//
//  1. analyze: a Unicode tokenizer, case folding, per-language stopwords and
//     Snowball stems (Chinese and Japanese, which have no spaces, cut into
//     overlapping pairs of characters); capitalized runs that are not sentence-initial are names
//     and also yield name bigrams ("marco rubio"); a country's names,
//     abbreviations and demonyms are one term ("UK", "Britain", "British").
//     Capitals are not: "Kyiv" is where strikes happen as often as the
//     government that negotiates.
//  2. weigh: sublinear term frequency with the title counted several times
//     and the link's slug as body words, names boosted (less in a headline-only
//     story), and IDF from the documents seen so far. Topic centroids
//     keep IDF-free sums, so they are re-weighted with the current IDF each
//     time they are compared; early documents are not stuck with cold-start
//     weights.
//  3. assign: candidate topics come from an inverted index over the terms of
//     topics active in the time window, the document joins the most similar
//     candidate (cosine to the centroid) above a threshold that depends on
//     the story's length, or opens a new topic. A short story must share
//     Config.MinShared words of its headline with a topic, so that body
//     boilerplate is no evidence, and its similarity must not rest on a
//     single word (Config.SupportShare), unless that word is a name that is
//     the focus of a grown topic (Config.FocusShare).
//     Topics that converge (centroid cosine at Config.MergeFactor times the
//     join threshold) are merged, and small topics opened before the
//     statistics matured are absorbed into a large one they match
//     (Config.AbsorbFactor); two small topics (a story that has just opened
//     one too) are merged on a single shared word at a lower bar when no
//     other open topic holds that word (smallPairFactor); all are reported
//     as Assignment.Merged, or as a plain join when the story's own new
//     topic is merged at once.
//  4. label: each topic is represented by the headline closest to its
//     centroid, and named by the phrase of that headline whose words weigh
//     most in the centroid (see Clusterer.phrase), or by its most
//     distinctive terms when the headline has none.
package cluster
