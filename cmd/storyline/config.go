package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/cmd/storyline/internal/period"
	"github.com/storyline/storyline/cmd/storyline/internal/poller"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
)

// Config is the whole configuration: defaults, with the YAML file laid over.
type Config struct {
	// Database is the SQLite file, or a postgres:// URL; --db overrides
	// it.
	Database  string `yaml:"database"`
	LogFormat string `yaml:"log_format"`
	// Timezone is the IANA name of the zone in which times are shown to
	// people (the pages, the topics feed's text, the CLI's tables);
	// empty means this machine's (TZ, else /etc/localtime).
	Timezone  string          `yaml:"timezone"`
	Poll      PollConfig      `yaml:"poll"`
	Fetch     FetchConfig     `yaml:"fetch"`
	Serve     ServeConfig     `yaml:"serve"`
	Cluster   ClusterConfig   `yaml:"cluster"`
	Retention RetentionConfig `yaml:"retention"`
	Feeds     []FeedConfig    `yaml:"feeds"`
}

// RetentionConfig is how long stories are kept: `serve` prunes the others
// every hour, `storyline prune` once.
type RetentionConfig struct {
	// MaxAge removes stories published longer ago; 0 keeps them all.
	MaxAge Period `yaml:"max_age"`
	// MaxPerFeed keeps the newest stories of each feed; 0 keeps all.
	MaxPerFeed int `yaml:"max_per_feed"`
}

// location is the zone of Timezone: time.Local when it is empty.
func (c Config) location() (*time.Location, error) {
	if c.Timezone == "" {
		return time.Local, nil
	}
	return time.LoadLocation(c.Timezone)
}

func (r RetentionConfig) retention() store.Retention {
	return store.Retention{MaxAge: time.Duration(r.MaxAge), MaxPerFeed: r.MaxPerFeed}
}

// Period is a duration that may be given in days or weeks ("90d", "12w"),
// as retention is thought of.
type Period time.Duration

// UnmarshalYAML reads a period as period.Parse does.
func (p *Period) UnmarshalYAML(n *yaml.Node) error {
	d, err := period.Parse(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		// In the decoder's own words, which decodeError turns into the
		// key's name and an example.
		return fmt.Errorf("line %d: cannot unmarshal !!str `%s` into main.Period", n.Line, n.Value)
	}
	*p = Period(d)
	return nil
}

// PollConfig is the scheduler's part of the configuration: the poller's
// own Config, which holds its keys and defaults.
type PollConfig = poller.Config

// FetchConfig is the HTTP client's part of the configuration.
type FetchConfig struct {
	Timeout        time.Duration `yaml:"timeout"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	MaxBodyMiB     int           `yaml:"max_body_mib"`
	MaxRedirects   int           `yaml:"max_redirects"`
	UserAgent      string        `yaml:"user_agent"`
	// AllowPrivateNetworks is true by default because feeds are added by
	// whoever runs storyline, and a feed on the LAN is a normal wish.
	AllowPrivateNetworks bool `yaml:"allow_private_networks"`
	// AllowHosts are checked when the file is loaded, so that a typo is
	// reported with its line rather than on the first fetch.
	AllowHosts []string `yaml:"allow_hosts"`
}

// ServeConfig is the HTTP server's part of the configuration.
type ServeConfig struct {
	Listen string `yaml:"listen"`
	// BaseURL is the public address of the server, for links and ids in
	// the feeds; empty means "as the client asked".
	BaseURL string `yaml:"base_url"`
}

// ClusterConfig is the clustering's part of the configuration: the knobs
// worth turning. The rest of cluster.Config keeps its defaults.
type ClusterConfig struct {
	Threshold         float64       `yaml:"threshold"`
	HeadlineThreshold float64       `yaml:"headline_threshold"`
	Window            time.Duration `yaml:"window"`
	History           time.Duration `yaml:"history"`
	TitleWeight       float64       `yaml:"title_weight"`
	NameWeight        float64       `yaml:"name_weight"`
}

func (c ClusterConfig) config() cluster.Config {
	cfg := cluster.DefaultConfig()
	cfg.Threshold, cfg.HeadlineThreshold = c.Threshold, c.HeadlineThreshold
	cfg.Window, cfg.TitleWeight, cfg.NameWeight = c.Window, c.TitleWeight, c.NameWeight
	cfg.History = c.History
	return cfg
}

// FeedConfig is one feed listed in the configuration.
type FeedConfig struct {
	URL      string        `yaml:"url"`
	Title    string        `yaml:"title"`
	Interval time.Duration `yaml:"interval"`
}

// DefaultConfig is what storyline uses with no configuration file.
func DefaultConfig() Config {
	cd := cluster.DefaultConfig()
	return Config{
		Database:  "storyline.db",
		LogFormat: "text",
		Poll:      poller.DefaultConfig(),
		Fetch: FetchConfig{
			Timeout:        feeds.DefaultTimeout,
			ConnectTimeout: feeds.DefaultConnectTimeout,
			MaxBodyMiB:     feeds.DefaultMaxBodyBytes >> 20,
			MaxRedirects:   feeds.DefaultMaxRedirects,
			// Link-local and cloud metadata addresses are refused all the
			// same (see feeds.Fetcher.DenyPrivateNetworks).
			AllowPrivateNetworks: true,
		},
		Serve: ServeConfig{Listen: "127.0.0.1:8080"},
		Cluster: ClusterConfig{
			Threshold:         cd.Threshold,
			HeadlineThreshold: cd.HeadlineThreshold,
			Window:            cd.Window,
			History:           cd.History,
			TitleWeight:       cd.TitleWeight,
			NameWeight:        cd.NameWeight,
		},
		// Keep everything unless told: with a default age limit, a feed
		// whose items are older (an archive, a quiet blog, a benchmark
		// fixture) would store nothing, to the surprise of whoever added
		// it. config.example.yaml and the README suggest 90d for a service.
	}
}

// LoadConfig reads the YAML file at path over the defaults. Unknown keys and
// bad values are errors that name the key and its line.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if err := parseConfig(b, &cfg); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

func parseConfig(b []byte, cfg *Config) error {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
			// YAML's own words do not say that the character is a tab.
			n, _ := strconv.Atoi(m[1])
			if lines := bytes.Split(b, []byte("\n")); n >= 1 && n <= len(lines) && bytes.ContainsRune(lines[n-1], '\t') {
				return fmt.Errorf("%w (line %d holds a tab: YAML indents with spaces only)", err, n)
			}
		}
		return err
	}
	if len(root.Content) == 0 {
		return nil // an empty file: all defaults
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return decodeError(err, root.Content[0])
	}
	return cfg.validate(root.Content[0])
}

var (
	unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\w+\.\w+)$`)
	syntaxLine   = regexp.MustCompile(`^yaml: line (\d+): found character that cannot start any token`)
	badValue     = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
	// sections names each configuration type's place in the file.
	sections = map[string]string{"main.Config": "", "poller.Config": "poll.", "main.FetchConfig": "fetch.",
		"main.ServeConfig": "serve.", "main.ClusterConfig": "cluster.", "main.RetentionConfig": "retention.", "main.FeedConfig": "feeds[]."}
)

// decodeError rewrites the YAML decoder's errors in the config's own
// terms: the key's full name instead of a Go type, and what a good value
// looks like.
func decodeError(err error, doc *yaml.Node) error {
	var out []string
	for _, line := range strings.Split(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n"), "\n") {
		line = strings.TrimSpace(line)
		if m := unknownField.FindStringSubmatch(line); m != nil {
			line = fmt.Sprintf("line %s: unknown key %s%s (see config.example.yaml for the keys)", m[1], sections[m[3]], m[2])
		} else if m := badValue.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			kind, value, typ := m[2], m[3], m[4]
			want := map[string]string{"time.Duration": "a duration such as 90s, 30m or 2h",
				"main.Period": "a period such as 90d, 12w or 36h",
				"int":         "a whole number", "float64": "a number", "string": "text", "bool": "true or false",
				"[]string":          "a list such as [feeds.lan, 10.0.0.0/8]",
				"main.FeedConfig":   "a feed: each one is written `- url: https://example.org/feed.xml`, its other keys below",
				"[]main.FeedConfig": "a list of feeds, each written `- url: https://example.org/feed.xml` on a line of its own"}[typ]
			if _, section := sections[typ]; want == "" && section {
				want = "a section of keys (see config.example.yaml)"
			}
			if want == "" {
				want = typ
			}
			key := keyAtLine(doc, n, "")
			if key != "" {
				key += ": "
			}
			if value == "" {
				// A list or a section where a value goes says no value.
				value = map[string]string{"seq": "a list", "map": "a section of keys"}[kind]
				line = fmt.Sprintf("line %d: %s%s is not %s", n, key, cmp.Or(value, "the value"), want)
			} else {
				line = fmt.Sprintf("line %d: %s%q is not %s", n, key, value, want)
			}
		}
		out = append(out, line)
	}
	return errors.New(strings.Join(out, "; "))
}

// keyAtLine finds the dotted name of the key whose value is on line, or "".
func keyAtLine(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name := k.Value
			if prefix != "" {
				name = prefix + "." + k.Value
			}
			if v.Line == line && (v.Kind == yaml.ScalarNode || k.Line == line) {
				return name
			}
			if found := keyAtLine(v, line, name); found != "" {
				return found
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if found := keyAtLine(item, line, fmt.Sprintf("%s[%d]", prefix, i)); found != "" {
				return found
			}
		}
	}
	return ""
}

// validate checks values that parse but make no sense, naming the key and
// the line it is on.
func (c *Config) validate(doc *yaml.Node) error {
	bad := func(path, msg string) error {
		if line := lineOf(doc, path); line > 0 {
			return fmt.Errorf("line %d: %s: %s", line, path, msg)
		}
		return fmt.Errorf("%s: %s", path, msg)
	}
	positive := []struct {
		path string
		v    time.Duration
	}{
		{"poll.interval", c.Poll.Interval},
		{"poll.min_interval", c.Poll.MinInterval},
		{"poll.max_interval", c.Poll.MaxInterval},
		{"poll.max_backoff", c.Poll.MaxBackoff},
		{"poll.lease", c.Poll.Lease},
		{"fetch.timeout", c.Fetch.Timeout},
		{"fetch.connect_timeout", c.Fetch.ConnectTimeout},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return bad(p.path, fmt.Sprintf("must be a positive duration such as 30s or 10m, not %v", p.v))
		}
	}
	if c.Poll.MinInterval > c.Poll.MaxInterval {
		return bad("poll.min_interval", "is longer than poll.max_interval")
	}
	if c.Poll.Interval < c.Poll.MinInterval {
		return bad("poll.interval", fmt.Sprintf("%v is shorter than poll.min_interval (%v): lower min_interval to poll this often", c.Poll.Interval, c.Poll.MinInterval))
	}
	if c.Poll.Workers < 1 || c.Poll.Workers > 1000 {
		return bad("poll.workers", fmt.Sprintf("must be between 1 and 1000, not %d", c.Poll.Workers))
	}
	if c.Poll.PerHost < 1 || c.Poll.PerHost > 100 {
		return bad("poll.per_host", fmt.Sprintf("must be between 1 and 100, not %d", c.Poll.PerHost))
	}
	if c.Poll.MaxItems < 1 || c.Poll.MaxItems > 100000 {
		return bad("poll.max_items", fmt.Sprintf("must be between 1 and 100000, not %d", c.Poll.MaxItems))
	}
	if c.Retention.MaxAge < 0 || c.Retention.MaxAge > 0 && time.Duration(c.Retention.MaxAge) < c.Cluster.Window {
		return bad("retention.max_age", fmt.Sprintf("must be 0 (keep all) or at least cluster.window (%v), not %v: stories are clustered within the window",
			c.Cluster.Window, time.Duration(c.Retention.MaxAge)))
	}
	if c.Retention.MaxPerFeed < 0 || c.Retention.MaxPerFeed > 0 && c.Retention.MaxPerFeed < c.Poll.MaxItems {
		return bad("retention.max_per_feed", fmt.Sprintf("must be 0 (no limit) or at least poll.max_items (%d), not %d: a feed's current items would come back at every poll",
			c.Poll.MaxItems, c.Retention.MaxPerFeed))
	}
	if c.Fetch.MaxBodyMiB < 1 || c.Fetch.MaxBodyMiB > 1024 {
		return bad("fetch.max_body_mib", fmt.Sprintf("must be between 1 and 1024, not %d", c.Fetch.MaxBodyMiB))
	}
	if c.Fetch.MaxRedirects < 0 || c.Fetch.MaxRedirects > 20 {
		return bad("fetch.max_redirects", fmt.Sprintf("must be between 0 and 20, not %d", c.Fetch.MaxRedirects))
	}
	for i, h := range c.Fetch.AllowHosts {
		if err := feeds.CheckAllowHost(h); err != nil {
			return bad(fmt.Sprintf("fetch.allow_hosts[%d]", i), err.Error())
		}
	}
	// Written as !(inside) so that NaN, which YAML spells .nan, fails too.
	if !(c.Cluster.Threshold > 0 && c.Cluster.Threshold < 1) {
		return bad("cluster.threshold", fmt.Sprintf("must be between 0 and 1 (exclusive), not %v", c.Cluster.Threshold))
	}
	if !(c.Cluster.HeadlineThreshold > 0 && c.Cluster.HeadlineThreshold < 1) {
		return bad("cluster.headline_threshold", fmt.Sprintf("must be between 0 and 1 (exclusive), not %v", c.Cluster.HeadlineThreshold))
	}
	if c.Cluster.Window <= 0 {
		return bad("cluster.window", "must be a positive duration such as 72h")
	}
	if c.Cluster.History <= 0 {
		return bad("cluster.history", "must be a positive duration such as 336h")
	}
	if !(c.Cluster.TitleWeight > 0 && c.Cluster.TitleWeight <= 100) {
		return bad("cluster.title_weight", fmt.Sprintf("must be a number above 0 and at most 100, not %v", c.Cluster.TitleWeight))
	}
	if !(c.Cluster.NameWeight > 0 && c.Cluster.NameWeight <= 100) {
		return bad("cluster.name_weight", fmt.Sprintf("must be a number above 0 and at most 100, not %v", c.Cluster.NameWeight))
	}
	if c.Database == "" {
		return bad("database", "must not be empty")
	}
	if _, err := c.location(); err != nil {
		return bad("timezone", fmt.Sprintf("%q is not a time zone: give an IANA name such as Europe/Paris or America/New_York, or UTC", c.Timezone))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return bad("log_format", fmt.Sprintf("must be text or json, not %q", c.LogFormat))
	}
	if err := checkListen(c.Serve.Listen); err != nil {
		return bad("serve.listen", err.Error())
	}
	if c.Serve.BaseURL != "" {
		if !isHTTPURL(c.Serve.BaseURL) {
			return bad("serve.base_url", fmt.Sprintf("must be an http or https URL, not %q", c.Serve.BaseURL))
		}
	}
	seen := map[string]bool{}
	for i, f := range c.Feeds {
		path := fmt.Sprintf("feeds[%d]", i)
		// Errors name the URL without its credentials (a terminal or a
		// log may be shared); one subscription per public URL.
		public, _ := feeds.SplitSecrets(f.URL)
		if !isHTTPURL(f.URL) {
			return bad(path+".url", fmt.Sprintf("must be an http or https URL, not %q", public))
		}
		if seen[public] {
			return bad(path+".url", fmt.Sprintf("%s is listed twice", public))
		}
		seen[public] = true
		if f.Interval < 0 || f.Interval > 0 && f.Interval < c.Poll.MinInterval {
			return bad(path+".interval", fmt.Sprintf("%v is shorter than poll.min_interval (%v)", f.Interval, c.Poll.MinInterval))
		}
	}
	return nil
}

// lineOf finds the line of a dotted key path ("poll.workers", "feeds[2].url")
// in a YAML document, or 0 when the key is not in the file.
func lineOf(n *yaml.Node, path string) int {
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			key = part[:i]
			fmt.Sscanf(part[i:], "[%d]", &idx)
		}
		if n == nil || n.Kind != yaml.MappingNode {
			return 0
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return 0
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return 0
			}
			n = n.Content[idx]
		}
	}
	return n.Line
}

// isHTTPURL reports whether s is an absolute http or https URL.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// checkListen reports what is wrong with a listen address before anything
// is opened: "8080" alone, a common slip, is a port without its colon.
func checkListen(addr string) error {
	if addr == "" {
		return errors.New("must not be empty")
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		hint := ""
		if _, err := strconv.Atoi(addr); err == nil {
			hint = fmt.Sprintf(" (for port %s on every interface write :%s, on this machine only 127.0.0.1:%s)", addr, addr, addr)
		}
		return fmt.Errorf("must be HOST:PORT such as 127.0.0.1:8080 or :8080, not %q%s", addr, hint)
	}
	return nil
}
