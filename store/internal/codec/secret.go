package codec

import (
	neturl "net/url"
	"strings"
)

// MovedSecret is what credentials a feed keeps when a permanent redirect
// moves it: those of the new URL when it has some (a redirect that keeps
// the query keeps the token), else the old ones if the host stayed the
// same, else none: credentials are not handed to another host.
func MovedSecret(oldURL, newURL, oldSecret, newSecret string) string {
	if newSecret != "" || oldSecret == "" {
		return newSecret
	}
	o, err1 := neturl.Parse(oldURL)
	n, err2 := neturl.Parse(newURL)
	if err1 != nil || err2 != nil || !strings.EqualFold(o.Host, n.Host) {
		return ""
	}
	return oldSecret
}
