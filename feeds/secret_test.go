package feeds

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitAndJoinSecrets(t *testing.T) {
	for _, tc := range []struct {
		raw, public string
		secret      bool
	}{
		{"https://example.org/feed.xml", "https://example.org/feed.xml", false},
		{"https://example.org/feed?page=2&keyword=ferry", "https://example.org/feed?page=2&keyword=ferry", false},
		{"https://example.org/feed?design=1&monkey=2", "https://example.org/feed?design=1&monkey=2", false},
		{"https://u:p%40ss@example.org/feed", "https://example.org/feed", true},
		{"https://TOKEN123@example.org/feed", "https://example.org/feed", true},
		{"https://example.org/feed?lang=en&token=abc&x=%2F", "https://example.org/feed?lang=en&x=%2F", true},
		{"https://example.org/feed?api_key=1&Access-Token=2&X-Amz-Signature=3&sid=4", "https://example.org/feed", true},
		{"https://example.org/f?a%5Fkey=1", "https://example.org/f", true}, // escaped name
		{"not a url at all", "not a url at all", false},
	} {
		public, secret := SplitSecrets(tc.raw)
		if public != tc.public || (secret != "") != tc.secret {
			t.Errorf("SplitSecrets(%q) = %q, %q; want %q, secret %v", tc.raw, public, secret, tc.public, tc.secret)
			continue
		}
		back := JoinSecrets(public, secret)
		// The same URL, up to the order of the query (secrets go last).
		if p2, s2 := SplitSecrets(back); p2 != public || s2 != secret {
			t.Errorf("JoinSecrets(%q, %q) = %q, which splits to %q, %q", public, secret, back, p2, s2)
		}
		if !tc.secret && back != tc.raw {
			t.Errorf("JoinSecrets changed a URL without credentials: %q -> %q", tc.raw, back)
		}
	}
	if got := JoinSecrets("https://example.org/feed?lang=en", mustSecret(t, "https://u:p@example.org/feed?token=abc")); got != "https://u:p@example.org/feed?lang=en&token=abc" {
		t.Errorf("JoinSecrets = %q", got)
	}
}

func mustSecret(t *testing.T, raw string) string {
	t.Helper()
	_, s := SplitSecrets(raw)
	if s == "" {
		t.Fatalf("no secret in %q", raw)
	}
	return s
}

func TestRedact(t *testing.T) {
	raw := "https://alice:s3cr%2Ft@example.org/feed?lang=en&token=t0ken-value"
	public, secret := SplitSecrets(raw)
	msg := `fetch ` + raw + `: Get "https://example.org/feed?lang=en&token=t0ken-value": 401; password s3cr/t`
	got := Redact(msg, public, secret)
	for _, s := range []string{"alice", "s3cr", "t0ken-value"} {
		if strings.Contains(got, s) {
			t.Errorf("Redact left %q in %q", s, got)
		}
	}
	if !strings.Contains(got, "fetch "+public+":") {
		t.Errorf("Redact(%q) = %q, want the public URL in place of the full one", msg, got)
	}
	if Redact(msg, raw, "") != msg {
		t.Error("Redact changed a text of a feed without credentials")
	}
	base := errors.New(msg)
	err := RedactError(base, public, secret)
	if !errors.Is(err, base) || strings.Contains(err.Error(), "t0ken") {
		t.Errorf("RedactError = %v (Is base: %v)", err, errors.Is(err, base))
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("https://u:pass@example.org/f?token=abcdef&x=1", "error at https://u:pass@example.org/f?x=1&token=abcdef")
	f.Add("http://example.org/?api_key=%41%42CD", "api_key=ABCD")
	f.Add("//@", "")
	f.Add("//0@//", "0")
	f.Fuzz(func(t *testing.T, raw, text string) {
		public, secret := SplitSecrets(raw)
		if secret == "" {
			return
		}
		if p2, s2 := SplitSecrets(JoinSecrets(public, secret)); p2 != public || s2 != secret {
			t.Fatalf("%q: split/join/split gives %q, %q; want %q, %q", raw, p2, s2, public, secret)
		}
		if _, s := SplitSecrets(public); s != "" {
			t.Fatalf("the public URL %q of %q still has credentials %q", public, raw, s)
		}
		got := Redact(text+" "+raw, public, secret)
		for _, v := range SecretValues(secret) {
			if len(v) >= minRedacted && strings.Contains(got, v) && !strings.Contains("REDACTED", v) {
				t.Fatalf("Redact left %q in %q", v, got)
			}
		}
	})
}
