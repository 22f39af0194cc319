package feeds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestAddressClass(t *testing.T) {
	tests := []struct {
		addr   string
		class  string // "" for public
		always bool
	}{
		{"8.8.8.8", "", false},
		{"2001:4860:4860::8888", "", false},
		{"169.254.169.254", "link-local", true},
		{"169.254.0.1", "link-local", true},
		{"::ffff:169.254.169.254", "link-local", true},
		{"64:ff9b::a9fe:a9fe", "link-local", true}, // NAT64 of 169.254.169.254
		{"fe80::1", "link-local", true},
		{"fe80::1%eth0", "link-local", true},
		{"febf::1", "link-local", true},
		{"fd00:ec2::254", "cloud metadata", true},
		{"100.100.100.200", "cloud metadata", true},
		{"127.0.0.1", "loopback", false},
		{"127.1.2.3", "loopback", false},
		{"::1", "loopback", false},
		{"::ffff:127.0.0.1", "loopback", false},
		{"0.0.0.0", "unspecified", false},
		{"0.1.2.3", "unspecified", false},
		{"::", "unspecified", false},
		{"10.1.2.3", "private", false},
		{"172.16.0.1", "private", false},
		{"172.31.255.255", "private", false},
		{"172.32.0.1", "", false},
		{"192.168.1.1", "private", false},
		{"::ffff:192.168.1.1", "private", false},
		{"fc00::1", "unique-local", false},
		{"fd12:3456::1", "unique-local", false},
		{"100.64.0.1", "carrier-grade NAT", false},
		{"100.127.255.255", "carrier-grade NAT", false},
		{"100.128.0.1", "", false},
		{"224.0.0.1", "multicast", false},
		{"239.1.2.3", "multicast", false},
		{"ff02::1", "multicast", false},
		{"64:ff9b::808:808", "", false}, // NAT64 of 8.8.8.8
	}
	for _, tt := range tests {
		class, always := addressClass(netip.MustParseAddr(tt.addr))
		if class != tt.class || always != tt.always {
			t.Errorf("addressClass(%s) = %q, %v; want %q, %v", tt.addr, class, always, tt.class, tt.always)
		}
	}
}

func TestAddressPolicy(t *testing.T) {
	tests := []struct {
		name        string
		denyPrivate bool
		allow       []string
		addr        string
		refused     bool
	}{
		{"public", true, nil, "93.184.215.14", false},
		{"loopback allowed by default", false, nil, "127.0.0.1", false},
		{"private allowed by default", false, nil, "192.168.1.10", false},
		{"unique-local allowed by default", false, nil, "fd00::5", false},
		{"link-local refused by default", false, nil, "169.254.169.254", true},
		{"mapped link-local refused by default", false, nil, "::ffff:169.254.169.254", true},
		{"IPv6 link-local refused by default", false, nil, "fe80::1", true},
		{"loopback refused when denied", true, nil, "127.0.0.1", true},
		{"IPv6 loopback refused when denied", true, nil, "::1", true},
		{"mapped loopback refused when denied", true, nil, "::ffff:127.0.0.1", true},
		{"private refused when denied", true, nil, "10.0.0.1", true},
		{"unique-local refused when denied", true, nil, "fc00::1", true},
		{"unspecified refused when denied", true, nil, "0.0.0.0", true},
		{"multicast refused when denied", true, nil, "224.0.0.1", true},
		{"allowed address", true, []string{"10.0.0.5"}, "10.0.0.5", false},
		{"allowed network", true, []string{"10.0.0.0/8"}, "10.200.0.5", false},
		{"outside the allowed network", true, []string{"10.0.0.0/8"}, "192.168.0.1", true},
		{"allowed network, mapped address", true, []string{"10.0.0.0/8"}, "::ffff:10.1.1.1", false},
		{"allowed mapped network", true, []string{"::ffff:10.0.0.0/104"}, "10.1.1.1", false},
		{"allowed link-local", false, []string{"169.254.169.254"}, "169.254.169.254", false},
		{"allowed IPv6 network", true, []string{"fd00::/8"}, "fd00::1", false},
		{"allowed IPv6 network, zoned address", false, []string{"fe80::/10"}, "fe80::1%eth0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newAddressPolicy(tt.denyPrivate, tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			err = p.check("", netip.MustParseAddr(tt.addr))
			if refused := errors.Is(err, ErrAddressRefused); refused != tt.refused {
				t.Errorf("check(%s) = %v, want refused %v", tt.addr, err, tt.refused)
			}
		})
	}
}

func TestCheckAllowHost(t *testing.T) {
	for _, ok := range []string{"10.0.0.0/8", "10.0.0.5", "fd00::/8", "::1", "[::1]", "feeds.lan", "Intranet.Example.", "localhost", "my_host"} {
		if err := CheckAllowHost(ok); err != nil {
			t.Errorf("CheckAllowHost(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "http://feeds.lan/", "feeds.lan:8080", "feeds..lan", "a b", "10.0.0.0/"} {
		if err := CheckAllowHost(bad); err == nil {
			t.Errorf("CheckAllowHost(%q) = nil, want an error", bad)
		}
	}
	_, err := (&Fetcher{AllowHosts: []string{"http://x/"}}).Fetch(context.Background(), Request{URL: "http://127.0.0.1:9/"})
	if err == nil || !strings.Contains(err.Error(), "AllowHosts") {
		t.Errorf("a bad AllowHosts entry: %v", err)
	}
}

// countingServer serves tinyFeed and counts the requests it answers.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, tinyFeed)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// redirector answers every request with a 302 to target.
func redirector(t *testing.T, target string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func wantRefused(t *testing.T, err error, mentions ...string) {
	t.Helper()
	if !errors.Is(err, ErrAddressRefused) {
		t.Fatalf("err = %v, want ErrAddressRefused", err)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

// Link-local addresses, where cloud metadata services answer, are refused
// with the default settings, directly or through a redirect. The guard
// refuses before connecting, so these tests send nothing to 169.254.x.x;
// the short timeout only bounds a run against a fetcher without the guard.
func TestFetchRefusesLinkLocalByDefault(t *testing.T) {
	ctx := context.Background()
	f := &Fetcher{Timeout: 3 * time.Second}
	for _, u := range []string{
		"http://169.254.169.254:9/latest/meta-data/",
		"http://[::ffff:169.254.169.254]:9/latest/meta-data/",
		"http://[::ffff:a9fe:a9fe]:9/",
	} {
		_, err := f.Fetch(ctx, Request{URL: u})
		wantRefused(t, err, "169.254.169.254", "link-local", "fetch.allow_hosts")
		if err != nil && strings.Contains(err.Error(), "allow_private_networks") {
			t.Errorf("%q: allow_private_networks does not help here, and should not be suggested", err)
		}
	}

	front := redirector(t, "http://169.254.169.254:9/latest/meta-data/")
	_, err := f.Fetch(ctx, Request{URL: front.URL + "/feed"})
	wantRefused(t, err, "redirected to http://169.254.169.254:9/", "169.254.169.254", "fetch.allow_hosts")

	_, err = Discover(ctx, f, "http://169.254.169.254:9/")
	wantRefused(t, err, "169.254.169.254")
}

func TestFetchPrivateNetworks(t *testing.T) {
	ctx := context.Background()
	srv, hits := countingServer(t)

	// The default: a feed on localhost is fine.
	if _, err := (&Fetcher{Timeout: 3 * time.Second}).Fetch(ctx, Request{URL: srv.URL}); err != nil {
		t.Fatalf("default settings: %v", err)
	}

	deny := &Fetcher{Timeout: 3 * time.Second, DenyPrivateNetworks: true}
	before := hits.Load()
	_, err := deny.Fetch(ctx, Request{URL: srv.URL + "/feed"})
	wantRefused(t, err, "refused to connect to 127.0.0.1 (loopback address", "fetch.allow_private_networks", "fetch.allow_hosts")
	if _, err := Discover(ctx, deny, srv.URL+"/"); !errors.Is(err, ErrAddressRefused) {
		t.Errorf("Discover: err = %v, want ErrAddressRefused", err)
	}
	if n := hits.Load() - before; n != 0 {
		t.Errorf("the refused server answered %d requests", n)
	}

	for _, allow := range []string{"127.0.0.1", "127.0.0.0/8", "::ffff:127.0.0.1"} {
		f := &Fetcher{Timeout: 3 * time.Second, DenyPrivateNetworks: true, AllowHosts: []string{allow}}
		if _, err := f.Fetch(ctx, Request{URL: srv.URL}); err != nil {
			t.Errorf("AllowHosts %s: %v", allow, err)
		}
	}
}

// The first server is allowed by name; the loopback address it redirects
// to is not. Both listen on 127.0.0.1, so the test tells them apart by the
// name in the URL, which is what AllowHosts matches before resolving.
func TestFetchRefusesRedirectToPrivateNetwork(t *testing.T) {
	if ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip4", "localhost"); err != nil ||
		len(ips) == 0 || !ips[0].IsLoopback() {
		t.Skipf("localhost does not resolve to 127.0.0.1 here: %v %v", ips, err)
	}
	ctx := context.Background()
	inside, insideHits := countingServer(t)
	front := redirector(t, inside.URL+"/secret")
	frontURL, _ := url.Parse(front.URL)
	frontURL.Host = net.JoinHostPort("localhost", frontURL.Port())

	f := &Fetcher{Timeout: 3 * time.Second, DenyPrivateNetworks: true, AllowHosts: []string{"localhost"}}
	_, err := f.Fetch(ctx, Request{URL: frontURL.String()})
	wantRefused(t, err, "redirected to "+inside.URL+"/secret", "127.0.0.1", "loopback", "fetch.allow_private_networks")
	if n := insideHits.Load(); n != 0 {
		t.Errorf("the server behind the redirect answered %d requests", n)
	}

	// A name is checked on what it resolves to.
	insideURL, _ := url.Parse(inside.URL)
	insideURL.Host = net.JoinHostPort("localhost", insideURL.Port())
	deny := &Fetcher{Timeout: 3 * time.Second, DenyPrivateNetworks: true}
	_, err = deny.Fetch(ctx, Request{URL: insideURL.String()})
	wantRefused(t, err, "localhost at ", "loopback", "fetch.allow_private_networks")
}

// Through a proxy the feed's host is the proxy's to resolve, but an IP
// literal is refused before the request is sent to the proxy.
func TestFetchThroughProxy(t *testing.T) {
	ctx := context.Background()
	proxy, hits := countingServer(t)
	proxyURL, _ := url.Parse(proxy.URL)
	f := &Fetcher{Timeout: 3 * time.Second, proxy: http.ProxyURL(proxyURL)}

	_, err := f.Fetch(ctx, Request{URL: "http://169.254.169.254/latest/meta-data/"})
	wantRefused(t, err, "169.254.169.254", "fetch.allow_hosts")
	if n := hits.Load(); n != 0 {
		t.Errorf("the proxy received %d requests for a refused address", n)
	}
	if _, err := f.Fetch(ctx, Request{URL: "http://feeds.example/rss"}); err != nil {
		t.Errorf("a name through the proxy: %v", err)
	}
	if hits.Load() != 1 {
		t.Errorf("the proxy received %d requests, want 1", hits.Load())
	}

	// The dial goes to the proxy, so it is the proxy's address that is checked.
	deny := &Fetcher{Timeout: 3 * time.Second, DenyPrivateNetworks: true, proxy: http.ProxyURL(proxyURL)}
	_, err = deny.Fetch(ctx, Request{URL: "http://feeds.example/rss"})
	wantRefused(t, err, "127.0.0.1", "fetch.allow_private_networks")
}
