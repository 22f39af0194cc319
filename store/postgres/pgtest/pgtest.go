// Package pgtest gives tests a real, throwaway PostgreSQL: one server per
// test binary, in a temporary directory, on a free 127.0.0.1 port, started
// at the first test that asks for a database and torn down when the binary
// ends; each test gets a database of its own. Tests never share state with
// an installed server, and nothing is left running or on disk after them.
//
// A test binary that uses it calls Main from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without PostgreSQL installed, DSN skips the test and says why; with
// CI=true it fails it instead, so that CI cannot pass by skipping.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// startTimeout bounds how long the server may take to accept connections:
// initdb and the first start take a few seconds on a slow CI machine.
const startTimeout = time.Minute

var (
	inMain   atomic.Bool
	once     sync.Once
	shared   *server
	startErr error
	missing  string // why there is no PostgreSQL to start, when there is none
	dbSeq    atomic.Int64
)

// Main runs the tests of a binary with m, stops the server if a test
// started one, and exits with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	inMain.Store(true)
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	os.Exit(code)
}

// DSN returns the connection string of a new, empty database for t on the
// binary's server, which is started on first use. The database is dropped
// when t ends, after t's other cleanups (which should close what connects
// to it). Without PostgreSQL the test is skipped, or failed under CI=true.
func DSN(t testing.TB) string {
	t.Helper()
	srv := server_(t)
	name := fmt.Sprintf("storyline_test_%d", dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := srv.admin(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		// FORCE ends the sessions a failed test left open; the drop
		// keeps a long test binary's disk use at one database or so.
		if err := srv.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return srv.dsn(name)
}

// server_ returns the binary's server, starting it on first use, or ends
// t when there is none.
func server_(t testing.TB) *server {
	t.Helper()
	if !inMain.Load() {
		t.Fatal("pgtest: the test binary must call pgtest.Main from TestMain (it stops the server)")
	}
	once.Do(func() {
		var bin string
		if bin, missing = findBin(); missing == "" {
			shared, startErr = start(bin)
		}
	})
	switch {
	case missing != "" && os.Getenv("CI") == "true":
		t.Fatalf("pgtest: CI=true and %s", missing)
	case missing != "":
		t.Skipf("pgtest: %s; install PostgreSQL (apt-get install postgresql) to run this test", missing)
	case startErr != nil:
		t.Fatalf("pgtest: %v", startErr)
	}
	return shared
}

// findBin returns the directory of initdb, postgres and pg_ctl: on PATH,
// else where Debian installs them (not on PATH there), the newest
// version first. It returns why not when there is none.
func findBin() (dir, missing string) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), ""
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, ""
		}
	}
	return "", "no PostgreSQL: initdb is neither on PATH nor in /usr/lib/postgresql/*/bin"
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// server is a running throwaway PostgreSQL.
type server struct {
	bin, dir string
	port     int
	proc     *exec.Cmd
	cred     *syscall.Credential
	exited   chan struct{} // closed when proc has ended

	mu   sync.Mutex // one admin statement at a time on conn
	conn *pgx.Conn
}

// superuser is the role initdb creates; connections are trusted, as on a
// developer's own machine, since only 127.0.0.1 and the private socket
// directory reach the server.
const superuser = "storyline"

func (s *server) dsn(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.port, db)
}

func (s *server) admin(ctx context.Context, sql string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.conn.Exec(ctx, sql)
	return err
}

// start makes a cluster in a new temporary directory and starts a server
// on it; it removes the directory again when that fails.
func start(bin string) (_ *server, err error) {
	dir, err := os.MkdirTemp("", "storyline-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, dir: dir}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	if s.cred, err = unprivileged(); err != nil {
		return nil, err
	}
	if s.cred != nil {
		// The server's user must own its data and reach the socket
		// directory; MkdirTemp made both root's, mode 0700.
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.command("initdb", "-D", data, "-U", superuser, "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	for attempt := 0; ; attempt++ {
		err = s.run(data)
		// Another process may take the free port between our probe and
		// the server's bind: try another one.
		if err == nil || attempt == 2 || !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	return s, err
}

// run starts the server on a free port and waits until it accepts
// connections.
func (s *server) run(data string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	logPath := filepath.Join(s.dir, fmt.Sprintf("postgres-%d.log", port))
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// The server is started directly rather than by pg_ctl, so that it is
	// our child and Pdeathsig ends it (immediate shutdown) if the test
	// binary dies without reaching Main's teardown (a test timeout's
	// panic, a kill): no server outlives its tests.
	cmd := s.command("postgres", "-D", data, "-p", strconv.Itoa(port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		// Durability is of no use to a database that is thrown away.
		"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
		// Several test databases, each with its pools, and the servers
		// of the multi-instance tests.
		"-c", "max_connections=300",
		"-c", "shared_buffers=32MB")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.proc, s.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.exited) }()

	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.dsn("postgres"))
		cancel()
		if err == nil {
			s.conn = conn
			return nil
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(logPath)
			s.proc = nil
			return fmt.Errorf("postgres exited at start: %s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections within %v: %v; log: %s", startTimeout, err, log)
		}
	}
}

// stop ends the server at once (there is nothing to keep) and removes its
// directory.
func (s *server) stop() {
	if s.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s.conn.Close(ctx)
		cancel()
	}
	if s.proc != nil {
		// SIGQUIT is PostgreSQL's immediate shutdown (pg_ctl stop -m
		// immediate).
		s.proc.Process.Signal(syscall.SIGQUIT)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.proc.Process.Kill()
			<-s.exited
		}
	}
	os.RemoveAll(s.dir)
}

// command prepares a PostgreSQL program, as the unprivileged user when we
// are root: initdb and postgres refuse to run as root.
func (s *server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	cmd.Dir = s.dir
	// A user's PG* settings (PGDATA, PGPORT...) must not redirect the
	// throwaway server, and nobody's HOME may not exist.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "HOME="+s.dir, "LC_ALL=C")
	return cmd
}

// unprivileged returns the credentials to run the server with: nil when
// we are not root, else those of the postgres user (which installing
// PostgreSQL creates) or, failing that, nobody.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, errors.New("running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
