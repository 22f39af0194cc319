// Command storyline polls news feeds, groups their stories into storylines,
// keeps everything in one SQLite file and serves the merged stream as feeds.
//
// Usage:
//
//	storyline [--config FILE] [--db FILE] COMMAND [ARGS]
//
// Run `storyline help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
	// Time zone names (config timezone) resolve on machines without a
	// zoneinfo database too: minimal containers, some Windows installs.
	_ "time/tzdata"

	"github.com/storyline/storyline/cmd/storyline/internal/period"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// fullVersion is version with the commit the binary was built from, as Go
// records it when building in a git checkout ("0.1.0-dev (4c82c4d3a1f0,
// 2026-12-07, modified)"): two builds between releases both say
// 0.1.0-dev, and an admin upgrading needs to tell them apart.
func fullVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	return versionWith(info.Settings)
}

// versionWith is version with the VCS settings of a build.
func versionWith(settings []debug.BuildSetting) string {
	var rev, at string
	modified := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case "vcs.time":
			at, _, _ = strings.Cut(s.Value, "T")
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return version
	}
	parts := []string{rev}
	if at != "" {
		parts = append(parts, at)
	}
	if modified {
		parts = append(parts, "modified")
	}
	return version + " (" + strings.Join(parts, ", ") + ")"
}

// defaultMemProfileRate is Go's default runtime.MemProfileRate, which main
// sets to 0 and --memprofile restores.
const defaultMemProfileRate = 512 * 1024

func main() {
	if os.Getenv("GOGC") == "" {
		paceGC()
	}
	if !strings.Contains(os.Getenv("GODEBUG"), "memprofilerate") {
		// Go samples allocations for a heap profile even when nobody asks
		// for one: the samples' records were 1.7 MiB at the peak of the
		// cold import. --memprofile turns sampling back on.
		runtime.MemProfileRate = 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A second signal means "now": the first one is already being
		// handled gracefully by whoever watches ctx.
		<-ctx.Done()
		stop()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		fmt.Fprintln(os.Stderr, "storyline: second signal, exiting at once")
		os.Exit(130)
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, "storyline:", ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "storyline:", err)
		os.Exit(1)
	}
}

// exitError carries an exit status other than 1, or an error that has
// already been reported.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return fmt.Sprintf("exit status %d: %s", e.code, e.msg) }

// usageError is a mistake on the command line; it exits with status 2.
func usageError(format string, args ...any) error {
	return exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

// env is what every command gets: the parsed global flags and the streams.
type env struct {
	stdout, stderr io.Writer
	configPath     string
	dbPath         string // from --db, else the config's
	dbFlag         bool   // --db was given
	cfg            Config
	loc            *time.Location // cfg.Timezone's zone, for times shown to people
	// servesDB is set by serve once it holds the database's serve lock:
	// the serve running on it is this one.
	servesDB bool
}

type command struct {
	name, args, help string
	run              func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "[--listen ADDR] [--demo] [--log-format text|json]", "run the daemon: poll feeds on schedule and serve the merged feeds", cmdServe},
		{"add", "URL [--title T] [--interval D]", "subscribe to a feed (an HTML page's feeds are discovered)", cmdAdd},
		{"remove", "URL|ID", "unsubscribe from a feed and delete its entries", cmdRemove},
		{"feeds", "[--json]", "list feeds with their polling status", cmdFeeds},
		{"import", "FILE.opml", "subscribe to every feed in an OPML file", cmdImport},
		{"export", "[--with-credentials]", "write the subscriptions as OPML to stdout", cmdExport},
		{"poll", "[--all]", "poll the due feeds (every feed with --all) once", cmdPoll},
		{"entries", "[--feed ID] [--since D] [--limit N] [--json]", "list stored entries, newest first", cmdEntries},
		{"topics", "[--since D] [--limit N] [--min-size N] [--json]", "list storylines by recent activity and size", cmdTopics},
		{"topic", "ID [--json]", "show one storyline and its stories", cmdTopic},
		{"search", "QUERY [--limit N] [--json]", "find the stories holding every word (Chinese and Japanese ones too), with their storylines", cmdSearch},
		{"recluster", "", "rebuild all storylines from the stored entries with the current settings", cmdRecluster},
		{"prune", "", "remove the stories the retention settings do not keep (serve does it every hour)", cmdPrune},
		{"backup", "FILE", "write a consistent copy of the database to FILE, also next to a running daemon", cmdBackup},
		{"migrate", "--from DB --to DB", "copy a whole install into an empty database, SQLite file or postgres:// URL, verified by counts", cmdMigrate},
		{"eval", "--input FILE.jsonl [--shuffle SEED [--orders N]] [--assignments OUT.tsv] [--json]", "score the clustering on a labelled file", cmdEval},
		{"version", "", "print the version", cmdVersion},
	}
}

// run is the whole program minus process concerns, so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := &env{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("storyline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&e.configPath, "config", "", "configuration `FILE` (YAML)")
	fs.StringVar(&e.dbPath, "db", "", "SQLite database `FILE` or postgres:// URL (overrides the config; default storyline.db)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the command to `FILE` (for go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile to `FILE` when the command ends (for go tool pprof)")
	fs.Usage = func() { usage(stderr, fs) }
	hoisted, err := hoistGlobalFlags(args)
	if err != nil {
		return usageError("%v", err)
	}
	if err := fs.Parse(hoisted); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{code: 2}
	}
	if fs.NArg() == 0 {
		usage(stderr, fs)
		return exitError{code: 2}
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		if len(rest) == 0 || rest[0] == "help" {
			usage(stdout, fs)
			return nil
		}
		// "help poll" is "poll --help", on stdout: asked for, not an error.
		name, rest, e.stderr = rest[0], []string{"--help"}, stdout
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		return usageError("unknown command %q (see storyline help)", name)
	}
	e.cfg = DefaultConfig()
	// A command's help needs no configuration, and a broken one must not
	// stand between a user and the help that may explain it. rest[0] is
	// the first thing the command's flags parse, so a help flag there is
	// sure to print help and run nothing.
	helpOnly := len(rest) > 0 && slices.Contains([]string{"-h", "-help", "--help"}, rest[0])
	if e.configPath != "" {
		cfg, err := LoadConfig(e.configPath)
		switch {
		case err == nil:
			e.cfg = cfg
		case !helpOnly:
			return err
		}
		// Help shows the defaults a working config gives the flags
		// (serve --listen), and the built-in ones despite a broken one.
	}
	// Validated with the config: a zone that does not load stopped it.
	e.loc, _ = e.cfg.location()
	if e.loc == nil {
		e.loc = time.Local
	}
	e.dbFlag = e.dbPath != ""
	if e.dbPath == "" {
		e.dbPath = e.cfg.Database
	}
	if *cpuProfile != "" {
		// Speed is measured on real runs (a first poll of many feeds), not
		// only in benchmarks: this shows where such a run spends its time.
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		if runtime.MemProfileRate == 0 {
			runtime.MemProfileRate = defaultMemProfileRate
		}
		f, err := os.Create(*memProfile)
		if err != nil {
			return fmt.Errorf("heap profile: %w", err)
		}
		defer f.Close()
		// Written without a collection first: its in-use figures are those
		// of the last collection during the command, near its peak, not
		// of what is left once the command has let go of everything.
		defer pprof.Lookup("heap").WriteTo(f, 0)
	}
	return cmd.run(ctx, e, rest)
}

// globalFlags are the flags run defines before the command; each takes a value.
var globalFlags = []string{"config", "db", "cpuprofile", "memprofile"}

// hoistGlobalFlags moves the global flags to the front, so that they may
// also follow the command ("storyline serve --demo --db demo.db"), where
// people put them.
func hoistGlobalFlags(args []string) ([]string, error) {
	var global, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name := strings.TrimLeft(a, "-")
		if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "---") {
			rest = append(rest, a)
			continue
		}
		key, _, inline := strings.Cut(name, "=")
		switch {
		case !slices.Contains(globalFlags, key):
			rest = append(rest, a)
		case inline:
			global = append(global, a)
		case i+1 == len(args):
			// Left last, it would take the command for its value.
			return nil, fmt.Errorf("flag needs an argument: %s", a)
		default:
			global = append(global, a, args[i+1])
			i++
		}
	}
	return append(global, rest...), nil
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "storyline %s: news feeds, grouped into storylines\n\n", version)
	fmt.Fprintln(w, "Usage: storyline [--config FILE] [--db FILE] COMMAND [ARGS]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n  %-10s   %s\n", c.name, c.args, "", c.help)
	}
	fmt.Fprintln(w, "\nGlobal flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseFlags parses a command's flags wherever they stand among its
// positional arguments ("add URL --title T" as well as "add --title T URL").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitError{code: 0}
			}
			return nil, exitError{code: 2}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("storyline "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		for _, c := range commands() {
			if c.name == name {
				fmt.Fprintf(w, "Usage: %s\n\n%s.\n", strings.TrimSpace("storyline "+c.name+" "+c.args), c.help)
			}
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// periodFlag defines a flag for a period (a look-back, a poll interval).
// Besides Go durations ("90m", "36h") it takes days and weeks ("3d", "2w",
// "1d12h"), as the config does: news is browsed by the day, and
// time.ParseDuration stops at hours.
func periodFlag(fs *flag.FlagSet, name, usage string) *time.Duration {
	d := new(time.Duration)
	fs.Func(name, usage, func(s string) error {
		v, err := period.Parse(s)
		if err != nil {
			return err
		}
		*d = v
		return nil
	})
	return d
}

func cmdVersion(ctx context.Context, e *env, args []string) error {
	if pos, err := parseFlags(newFlagSet(e, "version"), args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("version takes no arguments")
	}
	fmt.Fprintln(e.stdout, "storyline", fullVersion())
	return nil
}
