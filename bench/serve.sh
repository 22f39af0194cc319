#!/usr/bin/env bash
# Serving benchmark: `storyline serve` against nginx serving the same bytes
# statically, side by side with wrk on 127.0.0.1.
#
#   bench/serve.sh
#
# It builds storyline, makes a database of news-like feeds (1,000 feeds x 50
# items from the shared generator, polled through the real path, about a
# minute) or reuses one (DB=FILE: made there when missing, reused when
# present), starts `storyline serve` on it, saves /feed.atom (50 entries)
# as served, plain and gzipped, and gives those files to nginx with
# `gzip_static on`. Then wrk asks both, in turns, for
#
#   200 gzip  GET /feed.atom, Accept-Encoding: gzip
#   304       the same, with If-None-Match: the server's own ETag
#
# and it prints req/s (median of ROUNDS runs of DURATION each) and the ratio
# storyline / nginx. Settings, from the environment: DB, GEN (default
# ../shared/perf/gen_feeds.py), ROUNDS (3), DURATION (10s), CONNS (16),
# THREADS (2), WORKERS (nginx worker_processes, default auto), PORT (first of
# three ports, default 18290). Needs nginx (with gzip_static), wrk, curl.
# It is a benchmark, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."
gen=${GEN:-../shared/perf/gen_feeds.py}
rounds=${ROUNDS:-3}
duration=${DURATION:-10s}
conns=${CONNS:-16}
threads=${THREADS:-2}
workers=${WORKERS:-auto}
port=${PORT:-18290}
feedport=$port sport=$((port + 1)) nport=$((port + 2))
for c in nginx wrk curl; do
	command -v $c >/dev/null || { echo "serve.sh: $c not found" >&2; exit 2; }
done

work=$(mktemp -d)
chmod 755 "$work" # nginx workers run as another user
serve=""
cleanup() {
	for p in "$work"/nginx-*.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
	done
	[ -n "$serve" ] && kill "$serve" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# nginx_conf NAME PORT ROOT [DIRECTIVES...]: an nginx of our own, on loopback.
nginx_start() {
	local name=$1 p=$2 root=$3
	shift 3
	cat >"$work/nginx-$name.conf" <<EOF
worker_processes $workers;
daemon on;
pid $work/nginx-$name.pid;
error_log $work/nginx-$name-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	types { application/rss+xml xml; application/atom+xml atom; }
	server { listen 127.0.0.1:$p; root $root; $* }
}
EOF
	nginx -c "$work/nginx-$name.conf" -p "$work"
}

go build -o "$work/storyline" ./cmd/storyline

db=${DB:-$work/bench.db}
if [ ! -f "$db" ]; then
	[ -f "$gen" ] || { echo "serve.sh: feed generator $gen not found (set GEN)" >&2; exit 2; }
	echo "making $db: 1000 feeds x 50 items"
	python3 "$gen" 1000 50 "$work/www/r0" "http://127.0.0.1:$feedport/r0" >/dev/null
	nginx_start feeds "$feedport" "$work/www"
	"$work/storyline" --db "$db" import "$work/www/r0/feeds.opml" >/dev/null
	"$work/storyline" --db "$db" poll --all | tail -1
	kill "$(cat "$work/nginx-feeds.pid")"
fi

base="http://127.0.0.1:$sport"
"$work/storyline" --db "$db" serve --listen "127.0.0.1:$sport" 2>"$work/serve.log" &
serve=$!
for _ in $(seq 100); do
	curl -fs -o /dev/null "$base/healthz" && break
	sleep 0.1
done
# The daemon polls feeds that are due; with the feed server gone that is a
# burst of quick errors at start. Let it pass before measuring.
polls() { curl -fs "$base/metrics" | awk '/^storyline_polls_total/ { n += $2 } END { print n + 0 }'; }
prev=-1
for _ in $(seq 60); do
	now=$(polls)
	[ "$now" = "$prev" ] && break
	prev=$now
	sleep 1
done

mkdir -p "$work/static"
curl -fs "$base/feed.atom" -o "$work/static/feed.atom"
curl -fs -H 'Accept-Encoding: gzip' "$base/feed.atom" -o "$work/static/feed.atom.gz"
gzip -dc "$work/static/feed.atom.gz" | cmp -s - "$work/static/feed.atom" ||
	{ echo "serve.sh: the gzip body is not the plain one" >&2; exit 1; }
touch -r "$work/static/feed.atom" "$work/static/feed.atom.gz"
nginx_start static "$nport" "$work/static" "gzip_static on;"
echo "feed.atom: $(wc -c <"$work/static/feed.atom") bytes, $(wc -c <"$work/static/feed.atom.gz") gzipped;" \
	"$(grep -c '<entry>' "$work/static/feed.atom") entries; database $db"

etag() { curl -fs -o /dev/null -D - -H 'Accept-Encoding: gzip' "$1" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'; }
declare -A url=([storyline]="$base/feed.atom" [nginx]="http://127.0.0.1:$nport/feed.atom")
declare -A tag=([storyline]="$(etag "${url[storyline]}")" [nginx]="$(etag "${url[nginx]}")")
for s in storyline nginx; do
	c=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' -H "If-None-Match: ${tag[$s]}" "${url[$s]}")
	[ "$c" = 304 ] || { echo "serve.sh: $s answers $c, not 304, to its own ETag ${tag[$s]}" >&2; exit 1; }
done

# run SERVER KIND: req/s of one wrk run.
run() {
	local h=(-H 'Accept-Encoding: gzip')
	[ "$2" = 304 ] && h+=(-H "If-None-Match: ${tag[$1]}")
	wrk -t"$threads" -c"$conns" -d"$duration" "${h[@]}" "${url[$1]}" |
		awk '/^Requests\/sec/ { print $2 } /Non-2xx/ { print "serve.sh: " $0 > "/dev/stderr" }'
}
load=$(cut -d' ' -f1 /proc/loadavg)
declare -A res
for kind in 200 304; do
	for i in $(seq "$rounds"); do
		for s in storyline nginx; do
			res[$s-$kind]+="$(run $s $kind) "
		done
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "wrk -t$threads -c$conns -d$duration, median of $rounds, nginx worker_processes $workers;" \
	"load average before: $load (anything else busy skews the figures)"
printf '%-10s %12s %12s %7s\n' "" storyline nginx ratio
for kind in 200 304; do
	a=$(echo "${res[storyline-$kind]}" | median)
	b=$(echo "${res[nginx-$kind]}" | median)
	label="$kind"
	[ "$kind" = 200 ] && label="200 gzip"
	awk -v l="$label" -v a="$a" -v b="$b" 'BEGIN { printf "%-10s %12.0f %12.0f %7.2f\n", l, a, b, a / b }'
done
for kind in 200 304; do
	echo "runs $kind: storyline ${res[storyline-$kind]}; nginx ${res[nginx-$kind]}"
done
