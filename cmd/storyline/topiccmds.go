package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/storyline/storyline/cmd/storyline/internal/evaluate"
	"github.com/storyline/storyline/store"
)

// topicJSON is the stable JSON form of a topic (documented in the README).
// The number of its articles is story_count, not stories: `topic --json`
// already names its list of entries stories, and a field of the embedding
// struct would silently hide a "stories" of this one.
type topicJSON struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Headline   string    `json:"headline"`
	Size       int       `json:"size"`
	StoryCount int       `json:"story_count"`
	Outlets    int       `json:"outlets"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

func toTopicJSON(t store.Topic) topicJSON {
	return topicJSON{ID: t.ID, Name: t.Name, Headline: t.Headline, Size: t.Size, StoryCount: t.Stories, Outlets: t.Outlets,
		FirstSeen: t.First.UTC(), LastSeen: t.Last.UTC()}
}

// storyJSON is one story of a topic.
type storyJSON struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Link      string    `json:"link"`
	Outlet    string    `json:"outlet"`
	FeedID    int64     `json:"feed_id"`
	Published time.Time `json:"published"`
}

func cmdTopics(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "topics")
	since := periodFlag(fs, "since", "only topics with a story within this `PERIOD` (e.g. 36h, 3d, 2w)")
	limit := fs.Int("limit", 30, "at most `N` topics (0 for all)")
	minSize := fs.Int("min-size", 1, "only topics with at least `N` stories (articles: one carried by two feeds is one)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("topics takes no arguments")
	}
	if *limit < 0 || *since < 0 || *minSize < 0 {
		return usageError("--limit, --since and --min-size must not be negative")
	}
	db, err := openDBExisting(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	q := store.TopicQuery{Limit: *limit, MinSize: *minSize}
	if *since > 0 {
		q.Since = time.Now().Add(-*since)
	}
	ts, err := db.Topics(ctx, q)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]topicJSON, 0, len(ts))
		for _, t := range ts {
			out = append(out, toTopicJSON(t))
		}
		return writeJSON(e.stdout, out)
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "ID\tSTORIES\tOUTLETS\tFIRST\tLAST\tNAME\tHEADLINE")
	for _, t := range ts {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\n", t.ID, t.Stories, t.Outlets,
			t.First.In(e.loc).Format(timeLayout), t.Last.In(e.loc).Format(timeLayout),
			truncate(t.Name, 48), truncate(t.Headline, 80))
	}
	return tw.Flush()
}

func cmdTopic(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "topic")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("topic takes one topic ID")
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError("%q is not a topic ID", pos[0])
	}
	db, err := openDBExisting(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.Topic(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// A topic merged into another, or renumbered by a recluster, lives
		// on under the other ID.
		var to int64
		to, err = db.TopicMovedTo(ctx, id)
		if errors.Is(err, store.ErrGone) {
			return fmt.Errorf("topic %d has ended: its stories were removed (with their feed, or by retention)", id)
		}
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no topic with ID %d", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "storyline: topic %d is now topic %d (merged, or renumbered by recluster)\n", id, to)
		id = to
		t, err = db.Topic(ctx, id)
	}
	if err != nil {
		return err
	}
	es, err := db.Entries(ctx, store.EntryQuery{TopicID: id})
	if err != nil {
		return err
	}
	if *asJSON {
		out := struct {
			topicJSON
			Stories []storyJSON `json:"stories"`
		}{topicJSON: toTopicJSON(t), Stories: make([]storyJSON, 0, len(es))}
		for _, se := range es {
			out.Stories = append(out.Stories, storyJSON{ID: se.ID, Title: se.Entry.Title, Link: se.Entry.Link,
				Outlet: se.FeedTitle, FeedID: se.FeedID, Published: se.Entry.Published.UTC()})
		}
		return writeJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "%s\n%s\n%s from %s, %s to %s\n\n", t.Name, t.Headline,
		counted(t.Stories, "story", "stories"), counted(t.Outlets, "outlet", "outlets"),
		t.First.In(e.loc).Format(timeLayout), t.Last.In(e.loc).Format(timeLayout))
	tw := newTable(e.stdout)
	for _, c := range foldCopies(es) {
		se := c.StoredEntry
		fmt.Fprintf(tw, "%s\t%s\t%s\n\t\t%s\n", se.Entry.Published.In(e.loc).Format(timeLayout),
			truncate(c.outlets(), 24), shownTitle(se.Entry, 0), se.Entry.Link)
	}
	return tw.Flush()
}

// story is an article as the CLI's tables list it: one entry, standing
// for the copies of its link that other feeds carried (an outlet's main
// and section feeds), as the pages and the served feeds fold them.
type story struct {
	store.StoredEntry
	names []string // the outlets that carried it, each once, in order
}

// outlets names the outlets that carried the story.
func (s story) outlets() string { return strings.Join(s.names, ", ") }

// foldCopies folds the entries that share a link into the first of them,
// keeping their order; an entry without a link is a story of its own.
func foldCopies(es []store.StoredEntry) []story {
	var out []story
	at := make(map[string]int)
	for _, se := range es {
		if i, ok := at[se.Entry.Link]; ok && se.Entry.Link != "" {
			if !slices.Contains(out[i].names, se.FeedTitle) {
				out[i].names = append(out[i].names, se.FeedTitle)
			}
			continue
		}
		at[se.Entry.Link] = len(out)
		out = append(out, story{StoredEntry: se, names: []string{se.FeedTitle}})
	}
	return out
}

func cmdSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "search")
	limit := fs.Int("limit", 50, "at most `N` hits")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("search takes a query")
	}
	query := strings.Join(pos, " ")
	if !strings.ContainsFunc(query, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return usageError("search %q has no words to search for", query)
	}
	db, err := openDBExisting(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	hits, err := db.Search(ctx, query, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		type hitJSON struct {
			entryJSON
			Topic string `json:"topic"`
		}
		out := make([]hitJSON, 0, len(hits))
		for _, h := range hits {
			out = append(out, hitJSON{entryJSON: toEntryJSON(h), Topic: h.TopicName})
		}
		return writeJSON(e.stdout, out)
	}
	if len(hits) == 0 {
		fmt.Fprintf(e.stdout, "no stories match %q (a story must hold every word)\n", query)
		return nil
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "ID\tPUBLISHED\tFEED\tTITLE\tTOPIC")
	for _, c := range foldCopies(hits) {
		h := c.StoredEntry
		topic := "-"
		if h.TopicID != 0 {
			topic = fmt.Sprintf("%d %s", h.TopicID, h.TopicName)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", h.ID, h.Entry.Published.In(e.loc).Format(timeLayout),
			truncate(c.outlets(), 24), shownTitle(h.Entry, 70), topic)
	}
	return tw.Flush()
}

func cmdRecluster(ctx context.Context, e *env, args []string) error {
	if pos, err := parseFlags(newFlagSet(e, "recluster"), args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("recluster takes no arguments")
	}
	db, err := openDBToChange(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	n, nt, err := newPipeline(e, db).Recluster(ctx)
	if err != nil {
		return fmt.Errorf("%w (the old topics are unchanged)", err)
	}
	fmt.Fprintf(e.stdout, "reclustered %d entries into %d topics in %v\n", n, nt, time.Since(start).Round(time.Millisecond))
	return nil
}

// maxEvalOrders bounds eval --orders: each order is a full run, so more
// than this is a typo, not a measurement.
const maxEvalOrders = 10000

func cmdEval(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "eval")
	input := fs.String("input", "", "labelled JSON Lines `FILE` (see the README)")
	assignments := fs.String("assignments", "", "write id<TAB>topic lines to `FILE`")
	shuffle := fs.Uint64("shuffle", 0, "cluster the documents in the order drawn from `SEED` (1, 2, ...), without their times; 0 keeps the file's order and times")
	orders := fs.Int("orders", 1, "with --shuffle: score `N` orders (seeds SEED to SEED+N-1) and print each score's mean and range")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("eval takes no arguments besides its flags")
	}
	switch {
	case *input == "":
		return usageError("eval needs --input FILE.jsonl")
	case *orders < 1 || *orders > maxEvalOrders:
		return usageError("eval --orders must be from 1 to %d", maxEvalOrders)
	case *shuffle > math.MaxUint64-uint64(*orders-1):
		return usageError("eval --shuffle SEED is too large for --orders: the last seed would wrap round to 0, the file's order")
	case *orders > 1 && *shuffle == 0:
		return usageError("eval --orders needs --shuffle SEED: the file has one order")
	case *orders > 1 && *assignments != "":
		return usageError("eval --assignments writes one run: it does not go with --orders")
	}
	f, err := os.Open(*input)
	if err != nil {
		return err
	}
	recs, err := evaluate.Read(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("eval %s: %w", *input, err)
	}
	cfg := e.cfg.Cluster.config()
	var reps []*evaluate.Report
	var as []evaluate.Assignment
	for i := range *orders {
		in := recs
		if *shuffle > 0 {
			in = evaluate.Shuffle(recs, *shuffle+uint64(i))
		}
		var rep *evaluate.Report
		rep, as, err = evaluate.RunRecords(in, cfg, evaluate.Options{})
		if err != nil {
			return fmt.Errorf("eval %s: %w", *input, err)
		}
		reps = append(reps, rep)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if *orders > 1 {
		sp := evaluate.Summarize(reps)
		if *asJSON {
			return writeJSON(e.stdout, sp)
		}
		return printSpread(e.stdout, &sp, *shuffle)
	}
	if *assignments != "" {
		if err := writeAssignments(*assignments, as); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSON(e.stdout, reps[0])
	}
	return printReport(e.stdout, reps[0])
}

func writeAssignments(path string, as []evaluate.Assignment) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := &errWriter{w: f}
	for _, a := range as {
		fmt.Fprintf(w, "%s\t%d\n", a.ID, a.TopicID)
	}
	return w.err
}

// errWriter remembers the first write error so a loop of Fprintf calls can
// be checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (w *errWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(p)
	w.err = err
	return n, err
}

func printReport(w io.Writer, r *evaluate.Report) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "documents\t%d\n", r.Docs)
	fmt.Fprintf(tw, "B-cubed\tP %.4f\tR %.4f\tF1 %.4f\n", r.BCubedPrecision, r.BCubedRecall, r.BCubedF1)
	fmt.Fprintf(tw, "pairwise\tP %.4f\tR %.4f\tF1 %.4f\n", r.PairwisePrecision, r.PairwiseRecall, r.PairwiseF1)
	fmt.Fprintf(tw, "ARI\t%.4f\n", r.ARI)
	fmt.Fprintf(tw, "NMI\t%.4f\n", r.NMI)
	fmt.Fprintf(tw, "clusters\t%d predicted\t%d gold\n", r.PredictedClusters, r.GoldClusters)
	fmt.Fprintf(tw, "speed\t%.0f docs/s\t(%.3f s)\n", r.DocsPerSecond, r.Seconds)
	return tw.Flush()
}

// printSpread prints each score's mean and range over several orders.
func printSpread(w io.Writer, sp *evaluate.Spread, seed uint64) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "documents\t%d\t%d orders (seeds %d-%d)\n", sp.Docs, sp.Orders, seed, seed+uint64(sp.Orders)-1)
	fmt.Fprintf(tw, "\tmean\tmin\tmax\n")
	for _, r := range []struct {
		name string
		s    evaluate.Stat
	}{
		{"B-cubed P", sp.BCubedPrecision}, {"B-cubed R", sp.BCubedRecall}, {"B-cubed F1", sp.BCubedF1},
		{"pairwise P", sp.PairwisePrecision}, {"pairwise R", sp.PairwiseRecall}, {"pairwise F1", sp.PairwiseF1},
		{"ARI", sp.ARI}, {"NMI", sp.NMI},
	} {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\n", r.name, r.s.Mean, r.s.Min, r.s.Max)
	}
	fmt.Fprintf(tw, "clusters\t%.1f\t%.0f\t%.0f\t(%d gold)\n", sp.PredictedClusters.Mean, sp.PredictedClusters.Min, sp.PredictedClusters.Max, sp.GoldClusters)
	fmt.Fprintf(tw, "speed\t%.0f\t%.0f\t%.0f\tdocs/s\n", sp.DocsPerSecond.Mean, sp.DocsPerSecond.Min, sp.DocsPerSecond.Max)
	return tw.Flush()
}
