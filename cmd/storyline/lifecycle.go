package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/storyline/storyline/cmd/storyline/internal/ingest"
	"github.com/storyline/storyline/store"
)

// pruneEvery is how often `serve` applies the retention. Stories age by
// the day; an hour keeps the file within a few percent of its bound.
const pruneEvery = time.Hour

func cmdPrune(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "prune")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("prune takes no arguments")
	}
	r := e.cfg.Retention.retention()
	if r.KeepsAll() {
		fmt.Fprintln(e.stdout, "nothing to prune: retention.max_age and retention.max_per_feed are both 0 (keep everything)")
		return nil
	}
	db, err := openDBToChange(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := newPipeline(e, db).Prune(ctx, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "pruned %d entries (%s); %d storylines left empty were removed; %d pages returned to the file system\n",
		st.Entries, retentionText(r), st.Topics, st.FreedPages)
	return nil
}

func retentionText(r store.Retention) string {
	switch {
	case r.MaxAge > 0 && r.MaxPerFeed > 0:
		return fmt.Sprintf("older than %v, or beyond the newest %d of their feed", r.MaxAge, r.MaxPerFeed)
	case r.MaxAge > 0:
		return fmt.Sprintf("older than %v", r.MaxAge)
	default:
		return fmt.Sprintf("beyond the newest %d of their feed", r.MaxPerFeed)
	}
}

func cmdBackup(ctx context.Context, e *env, args []string) error {
	pos, err := parseFlags(newFlagSet(e, "backup"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("backup takes one FILE to write")
	}
	db, err := openDBExisting(ctx, e)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s\n", e.dbPath, pos[0])
	return nil
}

// runRetention prunes at once and then every pruneEvery until ctx ends.
func runRetention(ctx context.Context, pipe *ingest.Pipeline, r store.Retention, log *slog.Logger) {
	if r.KeepsAll() {
		return
	}
	for {
		st, err := pipe.Prune(ctx, r)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("prune", "err", err)
		case st.Entries > 0:
			log.Info("prune", "entries", st.Entries, "topics_removed", st.Topics, "pages_freed", st.FreedPages)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pruneEvery):
		}
	}
}
