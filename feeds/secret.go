package feeds

import (
	"net/url"
	"strings"
)

// A feed URL may carry credentials: userinfo (https://user:pass@host/feed)
// or a query parameter that grants access (?token=..., ?api_key=...).
// Whatever storyline shows or serves names a feed by its URL (the
// source of every entry, the OPML export, the CLI, the logs), so the
// credentials are kept apart from it: SplitSecrets takes them out, the
// store keeps the two parts in separate columns, and only the fetch puts
// them back (JoinSecrets).

// secretWords are the query parameter names, or the parts of one split at
// "_", "-" or ".", that mark a credential. Matching whole parts rather than
// substrings keeps "keyword" and "design" public while catching "api_key",
// "access-token" and "X-Amz-Signature".
var secretWords = map[string]bool{
	"token": true, "key": true, "secret": true, "password": true, "passwd": true,
	"pass": true, "pwd": true, "auth": true, "sig": true, "signature": true,
	"credential": true, "credentials": true, "session": true, "sid": true,
	"apikey": true, "accesstoken": true, "authtoken": true, "apitoken": true,
	"authorization": true, "jwt": true,
}

// IsSecretParam reports whether a query parameter of that name looks like
// a credential.
func IsSecretParam(name string) bool {
	name = strings.ToLower(name)
	if secretWords[name] {
		return true
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
		if secretWords[part] {
			return true
		}
	}
	return false
}

// SplitSecrets returns raw without its credentials (userinfo and secret
// query parameters, see IsSecretParam), and the credentials in an opaque
// form for JoinSecrets; secret is "" when there are none. The public URL
// keeps everything else byte for byte, so a URL without credentials comes
// back unchanged. A string that is not a URL with a host is returned as
// it is.
func SplitSecrets(raw string) (public, secret string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.User == nil && u.RawQuery == "") {
		// Without a host it cannot be fetched, and has nothing to hide.
		return raw, ""
	}
	var keep, hide []string
	if u.RawQuery != "" {
		for _, part := range strings.Split(u.RawQuery, "&") {
			name, _, _ := strings.Cut(part, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			if IsSecretParam(name) {
				hide = append(hide, part)
			} else {
				keep = append(keep, part)
			}
		}
	}
	if u.User == nil && len(hide) == 0 {
		return raw, ""
	}
	v := url.Values{}
	if u.User != nil {
		if ui := u.User.String(); ui != "" {
			v.Set("u", ui)
		}
		u.User = nil
	}
	if len(hide) > 0 {
		v.Set("q", strings.Join(hide, "&"))
	}
	u.RawQuery = strings.Join(keep, "&")
	u.ForceQuery = false
	return u.String(), v.Encode()
}

// JoinSecrets puts the credentials taken out by SplitSecrets back into a
// public URL, for the request only. Secret query parameters go after the
// public ones.
func JoinSecrets(public, secret string) string {
	if secret == "" {
		return public
	}
	v, err := url.ParseQuery(secret)
	if err != nil {
		return public
	}
	u, err := url.Parse(public)
	if err != nil {
		return public
	}
	if ui := v.Get("u"); ui != "" {
		if holder, err := url.Parse("http://" + ui + "@x"); err == nil {
			u.User = holder.User
		}
	}
	if q := v.Get("q"); q != "" {
		if u.RawQuery == "" {
			u.RawQuery = q
		} else {
			u.RawQuery += "&" + q
		}
	}
	return u.String()
}

// SecretValues returns the credential values held in secret (user name,
// password and parameter values, raw and decoded), for redaction.
func SecretValues(secret string) []string {
	if secret == "" {
		return nil
	}
	v, err := url.ParseQuery(secret)
	if err != nil {
		return nil
	}
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		out = append(out, s)
		if d, err := url.QueryUnescape(s); err == nil && d != s {
			out = append(out, d)
		}
		if e := url.QueryEscape(s); e != s {
			out = append(out, e)
		}
	}
	if ui := v.Get("u"); ui != "" {
		name, pass, _ := strings.Cut(ui, ":")
		add(name)
		add(pass)
	}
	for _, part := range strings.Split(v.Get("q"), "&") {
		if _, val, ok := strings.Cut(part, "="); ok {
			add(val)
		}
	}
	return out
}

// minRedacted is the shortest credential value Redact replaces anywhere in
// a text. A shorter one would blank out ordinary words of an error message,
// and is not much of a secret; its URL is still replaced whole.
const minRedacted = 4

// Redact removes the credentials of a feed from a text meant for people
// (an error message, a log line): the feed's full URL becomes its public
// one, and any credential value still left is replaced by "REDACTED".
func Redact(text, public, secret string) string {
	if secret == "" || text == "" {
		return text
	}
	text = strings.ReplaceAll(text, JoinSecrets(public, secret), public)
	for _, s := range SecretValues(secret) {
		if len(s) >= minRedacted {
			text = strings.ReplaceAll(text, s, "REDACTED")
		}
	}
	return text
}

// RedactError is err with its message redacted as Redact does; errors.Is
// and errors.As still see the original chain.
func RedactError(err error, public, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	return &redactedError{msg: Redact(err.Error(), public, secret), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
