package feeds

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// A feed URL is chosen by whoever adds the feed, and redirects by whoever
// runs the server: without a guard, storyline fetches from inside the
// network it runs in, cloud metadata services (which hand out credentials)
// included. The guard checks the address actually dialled, after name
// resolution, so that a redirect or a DNS answer cannot lead around it.

// cloudMetadata are instance-metadata services outside 169.254.0.0/16,
// which is refused as link-local anyway.
var cloudMetadata = []netip.Prefix{
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS, over IPv6
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
}

var (
	// sharedAddressSpace (RFC 6598) is carrier-grade NAT, and the addresses
	// of VPNs such as Tailscale: inside someone's network, not on the web.
	sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")
	// nat64 (RFC 6052) reaches the IPv4 address in its last 32 bits through
	// a NAT64 gateway, so 64:ff9b::a9fe:a9fe is 169.254.169.254.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// addressClass names the kind of non-public address ip is, or returns ""
// for a public one. always reports the kinds refused even when private
// networks are allowed: nobody means to subscribe to a link-local address,
// and that is where the metadata services answer.
func addressClass(ip netip.Addr) (class string, always bool) {
	ip = ip.Unmap().WithZone("")
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	for _, p := range cloudMetadata {
		if p.Contains(ip) {
			return "cloud metadata", true
		}
	}
	switch {
	case ip.IsLinkLocalUnicast():
		return "link-local", true
	case ip.IsLoopback():
		return "loopback", false
	case ip.IsUnspecified() || ip.Is4() && ip.As4()[0] == 0:
		// Connecting to 0.0.0.0 reaches the local host on Linux.
		return "unspecified", false
	case ip.IsPrivate() && ip.Is4():
		return "private", false
	case ip.IsPrivate():
		return "unique-local", false
	case sharedAddressSpace.Contains(ip):
		return "carrier-grade NAT", false
	case ip.IsMulticast():
		return "multicast", false
	}
	return "", false
}

// refusedError is a connection the address policy refused. It names the
// configuration keys, not the Fetcher fields, because it is read by the
// person who edits the configuration.
type refusedError struct {
	host   string // as in the URL
	addr   netip.Addr
	class  string
	always bool
}

func (e *refusedError) Error() string {
	target := e.addr.String()
	if _, err := netip.ParseAddr(e.host); err != nil && e.host != "" {
		target = e.host + " at " + target
	}
	how := "allow it with fetch.allow_hosts"
	if !e.always {
		how = "fetch.allow_private_networks is false; " + how
	}
	return fmt.Sprintf("refused to connect to %s (%s address; %s)", target, e.class, how)
}

func (e *refusedError) Unwrap() error { return ErrAddressRefused }

// CheckAllowHost reports why entry is not a valid Fetcher.AllowHosts entry,
// so that a configuration can be checked when it is loaded rather than on
// the first fetch.
func CheckAllowHost(entry string) error {
	_, _, err := parseAllowHost(entry)
	return err
}

// parseAllowHost returns either a host name or a network.
func parseAllowHost(s string) (string, netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") && !strings.Contains(s, "://") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return "", netip.Prefix{}, fmt.Errorf("%q is not a network such as 10.0.0.0/8 or fd00::/8", s)
		}
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return "", p, nil
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		ip = ip.Unmap().WithZone("")
		return "", netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	name := normalizeHost(s)
	for _, label := range strings.Split(name, ".") {
		if label == "" || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return "", netip.Prefix{}, fmt.Errorf("%q is not a host name (without scheme or port), an IP address or a network such as 10.0.0.0/8", s)
		}
	}
	return name, netip.Prefix{}, nil
}

func normalizeHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// addressPolicy decides which addresses a Fetcher may connect to.
type addressPolicy struct {
	denyPrivate bool
	names       map[string]bool
	nets        []netip.Prefix
}

func newAddressPolicy(denyPrivate bool, allow []string) (*addressPolicy, error) {
	p := &addressPolicy{denyPrivate: denyPrivate, names: map[string]bool{}}
	for _, a := range allow {
		name, pfx, err := parseAllowHost(a)
		if err != nil {
			return nil, err
		}
		if name != "" {
			p.names[name] = true
		} else {
			p.nets = append(p.nets, pfx)
		}
	}
	return p, nil
}

// check returns nil when host, which resolved to ip, may be connected to.
func (p *addressPolicy) check(host string, ip netip.Addr) error {
	plain := ip.Unmap().WithZone("")
	for _, n := range p.nets {
		if n.Contains(plain) {
			return nil
		}
	}
	class, always := addressClass(ip)
	if class == "" || !always && !p.denyPrivate {
		return nil
	}
	return &refusedError{host: host, addr: plain, class: class, always: always}
}

// dialContext wraps d so that every address it is about to connect to
// passes the policy. The check runs in the dialer's Control hook, after
// resolution and before connect, so it sees each address the name resolved
// to, and a refused one never receives a packet.
func (p *addressPolicy) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if p.names[normalizeHost(host)] {
			return d.DialContext(ctx, network, addr)
		}
		guarded := *d
		guarded.ControlContext = func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				// Fail closed: an address we cannot read is not one we allow.
				return fmt.Errorf("%w: cannot check address %q: %v", ErrAddressRefused, address, err)
			}
			return p.check(host, ap.Addr())
		}
		return guarded.DialContext(ctx, network, addr)
	}
}

// proxy wraps a transport's Proxy function. Through a proxy the dial goes
// to the proxy, so the dial-time check sees the proxy's address and the
// proxy resolves the feed's host; an IP literal in the URL can still be
// checked here, which covers the usual http://169.254.169.254/.
func (p *addressPolicy) proxy(next func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		u, err := next(req)
		if err != nil || u == nil {
			return u, err
		}
		host := req.URL.Hostname()
		if p.names[normalizeHost(host)] {
			return u, nil
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			if err := p.check(host, ip); err != nil {
				return nil, err
			}
		}
		return u, nil
	}
}
