package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/storyline/storyline/store/postgres/pgtest"
)

// TestConnectErrorsSayWhatToDo: a missing database and a user without
// rights are told as the server's answer with what to do, never with the
// password, and without the noise of each TLS attempt. (The test server
// trusts every local user, so a wrong password is TestConnectErrorHints'.)
func TestConnectErrorsSayWhatToDo(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	admin, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	u, _ := url.Parse(dsn)
	dbName := strings.TrimPrefix(u.Path, "/")
	for _, q := range []string{
		"CREATE ROLE walker LOGIN PASSWORD 'right-pass-123'",
		"CREATE DATABASE " + dbName + "_other",
	} {
		if _, err := admin.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		admin.pool.Exec(context.Background(), "DROP DATABASE IF EXISTS "+dbName+"_other WITH (FORCE)")
		admin.pool.Exec(context.Background(), "DROP ROLE IF EXISTS walker")
	})
	with := func(user, pass, db string) string {
		v := *u
		v.User = url.UserPassword(user, pass)
		v.Path = "/" + db
		return v.String()
	}
	for _, tc := range []struct {
		name, dsn string
		want      []string
	}{
		{"missing database", with("walker", "right-pass-123", "no_such_db"), []string{"does not exist", "createdb -O"}},
		{"no rights in the database", with("walker", "right-pass-123", dbName+"_other"), []string{"permission denied", "must own the database"}},
	} {
		_, err := Open(ctx, tc.dsn)
		if err == nil {
			t.Errorf("%s: Open succeeded", tc.name)
			continue
		}
		msg := err.Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tc.name, msg, w)
			}
		}
		if strings.Contains(msg, "pass-") || strings.Contains(msg, "tls error") {
			t.Errorf("%s: %q shows the password or the TLS attempt", tc.name, msg)
		}
	}
}

// TestConnectErrorHints: the server's answer to a wrong password becomes
// the error, with the hint, and the original stays in the chain.
func TestConnectErrorHints(t *testing.T) {
	answer := &pgconn.PgError{Code: "28P01", Message: `password authentication failed for user "news"`}
	attempts := fmt.Errorf("failed to connect: tls error: server refused TLS connection; %w", answer)
	err := connectError(attempts)
	if got := err.Error(); got != `password authentication failed for user "news" (SQLSTATE 28P01) (give the password in PGPASSWORD, a PGPASSFILE, or the URL)` {
		t.Errorf("connectError = %q", got)
	}
	if !errors.Is(err, answer) {
		t.Error("the server's answer left the chain")
	}
	dial := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	if connectError(dial) != dial {
		t.Error("an error without an answer from the server changed")
	}
}

// TestSessionsNoticeAVanishedPeer: storyline's sessions ask the server to
// notice a peer gone without a word (keepalives) and to end a transaction
// left idle, unless the DSN says otherwise.
func TestSessionsNoticeAVanishedPeer(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	for _, tc := range []struct{ dsn, idle string }{{dsn, "10"}, {dsn + "&tcp_keepalives_idle=42", "42"}} {
		db, err := Open(ctx, tc.dsn)
		if err != nil {
			t.Fatal(err)
		}
		var idle, count, tx string
		if err := db.pool.QueryRow(ctx, "SELECT current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_count'), current_setting('idle_in_transaction_session_timeout')").Scan(&idle, &count, &tx); err != nil {
			t.Fatal(err)
		}
		db.Close()
		// The server shows seconds with or without their unit.
		if strings.TrimSuffix(idle, "s") != tc.idle || count != "3" || tx != "5min" {
			t.Errorf("%s: keepalives idle %s, count %s, idle transaction timeout %s", tc.dsn, idle, count, tx)
		}
	}
}
