package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadExampleConfig(t *testing.T) {
	cfg, err := LoadConfig("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	// The example documents the defaults; it must not drift from them.
	// An empty list is as good as none.
	if len(cfg.Fetch.AllowHosts) == 0 && len(def.Fetch.AllowHosts) == 0 {
		cfg.Fetch.AllowHosts, def.Fetch.AllowHosts = nil, nil
	}
	if cfg.Poll != def.Poll || cfg.Cluster != def.Cluster || !reflect.DeepEqual(cfg.Fetch, def.Fetch) || cfg.Serve != def.Serve || cfg.Database != def.Database {
		t.Errorf("example config differs from the defaults:\n got %+v\nwant %+v", cfg, def)
	}
	if len(cfg.Feeds) != 0 {
		t.Errorf("the example subscribes to %d feeds; copying it must subscribe to none", len(cfg.Feeds))
	}
}

// The feed entry shown (commented out) in the example parses as documented.
func TestExampleFeedEntries(t *testing.T) {
	b, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, commented, ok := strings.Cut(string(b), "# feeds:\n")
	if !ok {
		t.Fatal("no commented feeds example")
	}
	var lines []string
	for _, l := range strings.Split(commented, "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		lines = append(lines, strings.TrimPrefix(strings.TrimPrefix(l, "#"), " "))
	}
	cfg := DefaultConfig()
	if err := parseConfig([]byte("feeds:\n"+strings.Join(lines, "\n")), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Feeds) != 2 || cfg.Feeds[0].Interval != time.Hour || cfg.Feeds[0].Title != "Example News" {
		t.Errorf("feeds = %+v", cfg.Feeds)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown key", "poll:\n  intervall: 10m\n", []string{"line 2", "unknown key poll.intervall"}},
		{"unknown top key", "database: x.db\nfeds: []\n", []string{"line 2", "feds"}},
		{"bad duration", "poll:\n  interval: soon\n", []string{"line 2", "poll.interval", "soon", "30m"}},
		{"negative duration", "fetch:\n  timeout: -5s\n", []string{"line 2", "fetch.timeout"}},
		{"workers", "poll:\n  workers: 0\n", []string{"line 2", "poll.workers"}},
		{"feed url", "feeds:\n  - url: https://ok.example/\n  - url: ftp://x\n", []string{"line 3", "feeds[1].url"}},
		{"duplicate feed", "feeds:\n  - url: https://ok.example/\n  - url: https://ok.example/\n", []string{"line 3", "twice"}},
		{"log format", "log_format: xml\n", []string{"line 1", "log_format"}},
		{"time zone", "timezone: Europe/Pariss\n", []string{"line 1", "timezone", `"Europe/Pariss"`, "IANA"}},
		{"not yaml", "poll: [1, 2\n", []string{"line"}},
		{"wrong type", "poll:\n  workers: many\n", []string{"line 2", "poll.workers", "many", "whole number"}},
		{"feed key typo", "feeds:\n  - url: https://x.example/\n    intervall: 1h\n", []string{"line 3", "unknown key feeds[].intervall"}},
		{"feed interval below the floor", "feeds:\n  - url: https://ok.example/\n    interval: 1s\n", []string{"line 3", "feeds[0].interval", "min_interval"}},
		{"interval below the floor", "poll:\n  interval: 10s\n", []string{"line 2", "poll.interval"}},
		{"infinite weight", "cluster:\n  name_weight: .inf\n", []string{"line 2", "cluster.name_weight"}},
		{"NaN threshold", "cluster:\n  threshold: .nan\n", []string{"line 2", "cluster.threshold"}},
		{"no history", "cluster:\n  history: 0s\n", []string{"line 2", "cluster.history"}},
		{"allow_hosts entry", "fetch:\n  allow_hosts:\n    - feeds.lan\n    - http://x.example/\n", []string{"line 4", "fetch.allow_hosts[1]", "http://x.example/"}},
		{"allow_hosts network", "fetch:\n  allow_hosts: [10.0.0.0/33]\n", []string{"line 2", "fetch.allow_hosts[0]", "10.0.0.0/33"}},
		{"feed without url:", "feeds:\n  - https://ok.example/feed.xml\n", []string{"line 2", "- url: ", "not a feed"}},
		{"feeds as one URL", "feeds: https://ok.example/feed.xml\n", []string{"line 1", "feeds", "a list of feeds", "- url: "}},
		{"poll as a list", "poll: [1, 2]\n", []string{"line 1", "poll: a list is not a section of keys"}},
		{"section as a value", "serve: 8080\n", []string{"line 1", "serve", "a section of keys"}},
		{"tab", "poll:\n\tinterval: 10m\n", []string{"line 2", "tab", "spaces"}},
		{"listen without a colon", "serve:\n  listen: 8080\n", []string{"line 2", "serve.listen", ":8080"}},
		{"allow_hosts not a list", "fetch:\n  allow_hosts: feeds.lan\n", []string{"line 2", "fetch.allow_hosts", "a list"}},
		{"allow_private_networks not a bool", "fetch:\n  allow_private_networks: maybe\n", []string{"line 2", "fetch.allow_private_networks", "true or false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			// The config's own terms, never a Go type.
			if strings.Contains(err.Error(), "main.") || strings.Contains(err.Error(), "poller.") || strings.Contains(err.Error(), "!!") {
				t.Errorf("error %q speaks of Go or YAML types", err)
			}
		})
	}
}

func TestEmptyConfigIsDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("# nothing\n"), 0o644)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Poll != DefaultConfig().Poll {
		t.Errorf("empty config = %+v", cfg)
	}
}
