package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/cmd/storyline/internal/poller"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

func newPoller(cfg Config, pipe poller.Ingest) *poller.Poller {
	pc := cfg.Poll
	pc.MaxAge = time.Duration(cfg.Retention.MaxAge)
	return &poller.Poller{
		Ingest:  pipe,
		Fetcher: newFetcher(cfg),
		Config:  pc,
	}
}

// pollShared polls on a database other instances share: it claims the
// feeds a few rounds of workers at a time, so that each lease outlasts the
// round that polls its feeds, until no feed is left to claim, and clusters
// what it stored once every round is saved, all together in time order.
// Its leases end when it returns.
func pollShared(ctx context.Context, e *env, shared sharedDatabase, pipe *ingest.Pipeline, all bool, onOutcome func(poller.Outcome)) (due []store.Feed, out []poller.Outcome, err error) {
	if err := checkLease(e.cfg); err != nil {
		return nil, nil, err
	}
	owner := instanceName()
	defer func() {
		release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := shared.ReleaseLeases(release, owner); rerr != nil && err == nil {
			err = rerr
		}
	}()
	p := newPoller(e.cfg, savesOnly{pipe})
	p.OnOutcome = onOutcome
	polled := map[int64]bool{}
	for ctx.Err() == nil {
		claimed, err := shared.ClaimDueFeeds(ctx, time.Now(), all, owner, e.cfg.Poll.Lease, leaseBatch*e.cfg.Poll.Workers)
		if err != nil {
			return due, out, err
		}
		var fresh []store.Feed
		for _, f := range claimed {
			if !polled[f.ID] {
				polled[f.ID] = true
				fresh = append(fresh, f)
			}
		}
		if len(fresh) == 0 {
			break
		}
		o, err := p.Poll(ctx, fresh)
		due, out = append(due, fresh...), append(out, o...)
		if err != nil {
			return due, out, err
		}
	}
	if err := ctx.Err(); err != nil {
		return due, out, err
	}
	_, err = pipe.ClusterPending(ctx)
	return due, out, err
}

// savesOnly is the pipeline with its clustering left to the caller.
type savesOnly struct{ *ingest.Pipeline }

func (savesOnly) ClusterPending(context.Context) (int, error) { return 0, nil }

// checkLease refuses, on a shared database, a poll.lease shorter than a
// round of polls may take: leaseBatch rounds of workers, all of one host,
// per_host at a time, each taking up to fetch.timeout. Another instance
// would poll the feeds of a round still in progress.
func checkLease(c Config) error {
	n := leaseBatch * c.Poll.Workers
	par := min(c.Poll.PerHost, c.Poll.Workers)
	round := time.Duration((n+par-1)/par) * c.Fetch.Timeout
	if c.Poll.Lease < round {
		return fmt.Errorf("poll.lease %v is shorter than a round of polls may take on a shared database (%d feeds of one host, poll.per_host %d at a time, up to fetch.timeout %v each: %v): raise poll.lease, or lower poll.workers or fetch.timeout",
			c.Poll.Lease, n, par, c.Fetch.Timeout, round)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func cmdPoll(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "poll")
	all := fs.Bool("all", false, "poll every enabled feed, not only the due ones")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("poll takes no arguments")
	}
	// A first poll makes the database only for the feeds the config
	// lists: without them it would make an empty one where --db was
	// mistyped.
	open := openDBToChange
	if len(e.cfg.Feeds) > 0 {
		open = openDB
	}
	db, err := open(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	pipe := newPipeline(e, db)
	progress := isTerminal(e.stderr)
	done := 0
	onOutcome := func(poller.Outcome) {
		done++
		if progress {
			fmt.Fprintf(e.stderr, "\rpolled %s", counted(done, "feed", "feeds"))
		}
	}
	var due []store.Feed
	var outcomes []poller.Outcome
	var perr error
	if shared, ok := db.(sharedDatabase); ok {
		if due, outcomes, perr = pollShared(ctx, e, shared, pipe, *all, onOutcome); len(due) == 0 && perr == nil {
			fmt.Fprintln(e.stdout, nothingDue(ctx, db, *all))
			return nil
		}
	} else {
		if due, err = db.DueFeeds(ctx, time.Now(), *all); err != nil {
			return err
		}
		if len(due) == 0 {
			fmt.Fprintln(e.stdout, nothingDue(ctx, db, *all))
			// Stories an interrupted poll saved are clustered all the same.
			_, err := pipe.ClusterPending(ctx)
			return err
		}
		p := newPoller(e.cfg, pipe)
		p.OnOutcome = onOutcome
		outcomes, perr = p.Poll(ctx, due)
	}
	if progress {
		fmt.Fprintln(e.stderr)
	}
	failed, saveFailed := printPollSummary(e.stdout, outcomes)
	switch {
	case saveFailed > 0:
		return exitError{code: 1, msg: fmt.Sprintf("the database refused %d results", saveFailed)}
	case perr != nil && ctx.Err() == nil:
		return perr // the stories are saved, the clustering failed
	case perr != nil:
		return fmt.Errorf("poll interrupted after %d of %d feeds: %w", len(outcomes), len(due), perr)
	case failed == len(due):
		return exitError{code: 1, msg: "every feed failed"}
	}
	return nil
}

// shownTitle is an entry's title in a table: its own (cut to n runes when
// n > 0), else the start of its text, marked as such, as the served feeds
// take one from the text.
func shownTitle(e feeds.Entry, n int) string {
	if e.Title != "" {
		if n > 0 {
			return truncate(e.Title, n)
		}
		return e.Title
	}
	if t := strings.Join(strings.Fields(feeds.StripMarkup(e.Text)), " "); t != "" {
		return "(untitled) " + truncate(t, max(n, 80)-len("(untitled) "))
	}
	return "(untitled)"
}

// timeLayout is how the CLI's tables write a time: the year and the
// month before the day, so that no date reads two ways.
const timeLayout = "2006-01-02 15:04"

// counted is n and the noun in the number n calls for ("1 field", "2 fields").
func counted(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// nothingDue says why a poll found no feed to poll. Feeds a 410 disabled
// are subscribed all the same, and are told apart from an empty list.
func nothingDue(ctx context.Context, db database, all bool) string {
	if !all {
		return "no feeds due (use --all to poll every feed)"
	}
	disabled := 0
	if fs, err := db.Feeds(ctx); err == nil {
		for _, f := range fs {
			if f.Disabled {
				disabled++
			}
		}
	}
	if disabled > 0 {
		return fmt.Sprintf("no enabled feeds to poll: %s disabled (see storyline feeds; storyline add URL enables one again once it answers)",
			counted(disabled, "feed is", "feeds are"))
	}
	return "no enabled feeds to poll (storyline add URL or storyline import FILE.opml subscribes to some)"
}

// printPollSummary prints one line per feed and a total, and returns how
// many feeds failed and how many saves the database refused.
func printPollSummary(w io.Writer, outcomes []poller.Outcome) (failed, saveFailed int) {
	tw := newTable(w)
	var nNew, nUpd, nNotMod, nSame, nCut, nDropped int
	// By feed, as `feeds` lists them, not in the order the fetches ended.
	outcomes = slices.Clone(outcomes)
	slices.SortStableFunc(outcomes, func(a, b poller.Outcome) int { return cmp.Compare(a.Feed.ID, b.Feed.ID) })
	for _, o := range outcomes {
		detail := ""
		switch o.Kind {
		case poller.KindError:
			failed++
			if o.SaveErr != nil {
				saveFailed++
			}
			detail = oneLine(errorOfFeed(o.Err.Error(), o.Feed.URL))
		case poller.KindNew, poller.KindUpdated, poller.KindUnchanged:
			detail = fmt.Sprintf("%d new, %d updated", o.Stats.New, o.Stats.Updated)
			if o.Truncated > 0 {
				detail += ", " + counted(o.Truncated, "field", "fields") + " truncated"
			}
			if o.Dropped > 0 {
				detail += ", " + counted(o.Dropped, "oldest item", "oldest items") + " beyond poll.max_items skipped"
			}
			if o.TooOld > 0 {
				detail += ", " + counted(o.TooOld, "item", "items") + " older than retention.max_age skipped"
			}
		}
		nCut += o.Truncated
		nDropped += o.Dropped + o.TooOld
		nNew += o.Stats.New
		nUpd += o.Stats.Updated
		switch o.Kind {
		case poller.KindNotModified:
			nNotMod++
		case poller.KindUnchanged:
			nSame++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", o.Feed.ID, strings.ReplaceAll(string(o.Kind), "_", " "), titleURL(o.Feed), detail)
	}
	tw.Flush()
	fmt.Fprintf(w, "total: %s, %s, %d updated, %d not modified, %d unchanged, %s",
		counted(len(outcomes), "feed", "feeds"), counted(nNew, "new entry", "new entries"), nUpd, nNotMod, nSame,
		counted(failed, "error", "errors"))
	if nCut > 0 || nDropped > 0 {
		fmt.Fprintf(w, ", %s truncated, %s skipped", counted(nCut, "field", "fields"), counted(nDropped, "item", "items"))
	}
	fmt.Fprintln(w)
	return failed, saveFailed
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// entryJSON is the stable JSON form of an entry (documented in the README).
type entryJSON struct {
	ID         int64      `json:"id"`
	FeedID     int64      `json:"feed_id"`
	Feed       string     `json:"feed"`
	GUID       string     `json:"guid"`
	Title      string     `json:"title"`
	Link       string     `json:"link"`
	Author     string     `json:"author"`
	Categories []string   `json:"categories"`
	Language   string     `json:"language"`
	Published  time.Time  `json:"published"`
	Updated    *time.Time `json:"updated"`
	FirstSeen  time.Time  `json:"first_seen"`
	Summary    string     `json:"summary"`
	TopicID    *int64     `json:"topic_id"`
}

func toEntryJSON(se store.StoredEntry) entryJSON {
	cats := se.Entry.Categories
	if cats == nil {
		cats = []string{}
	}
	var topic *int64
	if se.TopicID != 0 {
		t := se.TopicID
		topic = &t
	}
	return entryJSON{
		ID: se.ID, FeedID: se.FeedID, Feed: se.FeedTitle, GUID: se.Entry.ID, Title: se.Entry.Title,
		Link: se.Entry.Link, Author: se.Entry.Author, Categories: cats, Language: se.Entry.Language,
		Published: se.Entry.Published.UTC(), Updated: timePtr(se.Entry.Updated), FirstSeen: se.FirstSeen.UTC(),
		Summary: se.Entry.Text, TopicID: topic,
	}
}

func cmdEntries(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "entries")
	feedID := fs.Int64("feed", 0, "only entries of the feed with this `ID`")
	since := periodFlag(fs, "since", "only entries published within this `PERIOD` (e.g. 36h, 3d, 2w)")
	limit := fs.Int("limit", 50, "at most `N` entries (0 for all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("entries takes no arguments")
	}
	if *limit < 0 || *since < 0 {
		return usageError("--limit and --since must not be negative")
	}
	db, err := openDBExisting(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	q := store.EntryQuery{FeedID: *feedID, Limit: *limit}
	if *since > 0 {
		q.Since = time.Now().Add(-*since)
	}
	if *feedID != 0 {
		if _, err := db.Feed(ctx, fmt.Sprint(*feedID)); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no feed with ID %d", *feedID)
		}
	}
	es, err := db.Entries(ctx, q)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]entryJSON, 0, len(es))
		for _, se := range es {
			out = append(out, toEntryJSON(se))
		}
		return writeJSON(e.stdout, out)
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "ID\tPUBLISHED\tFEED\tTITLE")
	for _, se := range es {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", se.ID, se.Entry.Published.In(e.loc).Format(timeLayout),
			truncate(se.FeedTitle, 24), shownTitle(se.Entry, 0))
	}
	return tw.Flush()
}

// truncate cuts s to n terminal columns (see displayWidth), the last of
// them an ellipsis: a Chinese title is cut at half as many characters as
// an English one, as it takes twice the room.
func truncate(s string, n int) string {
	if displayWidth(s) <= n {
		return s
	}
	var b strings.Builder
	w := 0
	for _, r := range s {
		rw := runeWidth(r)
		if w+rw > n-1 {
			break
		}
		b.WriteRune(r)
		w += rw
	}
	return b.String() + "…"
}
