package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/storyline/storyline/store"
)

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "migrate")
	from := fs.String("from", "", "the database to copy, whose data is only read (an older schema is brought up to date first): a SQLite `FILE` or a postgres:// URL")
	to := fs.String("to", "", "the empty database to copy into: a SQLite `FILE` (created when missing) or a postgres:// URL")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0 || *from == "" || *to == "":
		return usageError("migrate takes --from DATABASE and --to DATABASE")
	case *from == *to:
		return usageError("migrate: --from and --to name the same database")
	}
	for _, dsn := range []string{*from, *to} {
		if err := refuseUpgradeUnderServe(ctx, dsn); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	src, err := openDatabase(ctx, *from, true)
	if errors.Is(err, store.ErrNoDatabase) {
		return fmt.Errorf("migrate: source: %w (check --from)", err)
	}
	if err != nil {
		return fmt.Errorf("migrate: source: %w", err)
	}
	defer src.Close()
	dst, err := openDatabase(ctx, *to, false)
	if err != nil {
		return fmt.Errorf("migrate: destination: %w", err)
	}
	defer dst.Close()
	var copied store.Counts
	err = src.Export(ctx, func(x *store.Export) error {
		var err error
		copied, err = dst.Import(ctx, x)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotEmpty):
		return fmt.Errorf("migrate: destination %s: %w", shownDSN(*to), err)
	case err != nil:
		return fmt.Errorf("migrate %s to %s: nothing was copied: %w", shownDSN(*from), shownDSN(*to), err)
	}
	// Import checked these against the source's before it committed.
	fmt.Fprintf(e.stdout, "copied %s to %s, every count as in the source:\n", shownDSN(*from), shownDSN(*to))
	for name, n := range copied.All() {
		fmt.Fprintf(e.stdout, "  %-12s %10d\n", name, n)
	}
	return nil
}
