#!/usr/bin/env bash
# Ingest benchmark on news-like load, through the real path: generate RSS
# feeds whose headlines recur across outlets (large storylines form), serve
# them from a static server on 127.0.0.1, `storyline import` the OPML, then
# time `storyline poll --all` to exit and read its peak RSS.
#
#   bench/ingest.sh cold [FEEDS [ITEMS]]   one cold poll (default 1000 x 50,
#                                          items dated over 28 days)
#   bench/ingest.sh rounds [FEEDS [ITEMS]] two sets of new feeds, all items in
#                                          one 72 h window, polled into one
#                                          database: cost per story, round 1
#                                          against round 2
#   bench/ingest.sh pg N [FEEDS [ITEMS]]   the cold load into PostgreSQL (a
#                                          throwaway server with the stock
#                                          settings of initdb) by N `serve`
#                                          instances sharing it, timed until
#                                          every item is stored and clustered;
#                                          prints the instances' peak RSS and
#                                          the CPU time PostgreSQL used;
#                                          PGCMD=poll runs `poll --all`
#                                          instead of serve (N=1: the path
#                                          of the SQLite figures)
#
# Needs python3 and the feed generator of the shared benchmark files
# (GEN, default ../shared/perf/gen_feeds.py, which reads ../shared/bench).
# Serves with nginx when it is installed (apt-get install nginx-light),
# else with python3 -m http.server, which is slower and makes fetching, not
# storyline, the bottleneck. Set CPUPROFILE=FILE to profile the (last) poll,
# MEMPROFILE=FILE for its heap when it ends.
# It is a benchmark, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-cold}
if [ "$mode" = pg ]; then
	instances=${2:-1}
	shift
fi
feeds=${2:-1000}
items=${3:-50}
gen=${GEN:-../shared/perf/gen_feeds.py}
port=${PORT:-18089}
[ -f "$gen" ] || { echo "ingest.sh: feed generator $gen not found (set GEN)" >&2; exit 2; }

work=$(mktemp -d)
chmod 755 "$work" # nginx workers run as another user
server=""
cleanup() {
	for pid in ${instance_pids:-}; do kill "$pid" 2>/dev/null || true; done
	if [ -n "${pgbin:-}" ] && [ -f "$work/pg/postmaster.pid" ]; then
		$asPostgres "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
	fi
	if [ -f "$work/nginx.pid" ]; then kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; fi
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# pg_run starts a throwaway PostgreSQL, imports the feeds, runs the
# instances until every item is stored and clustered, and reports.
pg_run() {
	pgbin=$(dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | tail -1)")
	asPostgres=""
	if [ "$(id -u)" = 0 ]; then
		asPostgres="runuser -u postgres --"
		mkdir -p "$work/pg" && chown postgres "$work/pg"
	fi
	$asPostgres "$pgbin/initdb" -D "$work/pg" -A trust -U storyline >/dev/null
	pgport=$((port + 1))
	$asPostgres "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w \
		-o "-p $pgport -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
	"$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U storyline storyline 2>/dev/null || psql -h 127.0.0.1 -p "$pgport" -U storyline -d postgres -qc 'CREATE DATABASE storyline'
	dsn="postgres://storyline@127.0.0.1:$pgport/storyline?sslmode=disable"
	psqlq() { psql -h 127.0.0.1 -p "$pgport" -U storyline -d storyline -tAc "$1"; }
	printf 'database: %s\nserve:\n  listen: 127.0.0.1:0\npoll:\n  interval: 24h\n' "$dsn" >"$work/pg.yaml"
	"$work/storyline" --config "$work/pg.yaml" import "$work/www/r0/feeds.opml" >/dev/null
	total=$(cat "$work"/www/r0/*.xml | grep -o '<item>' | wc -l)
	# PostgreSQL's CPU so far: the postmaster and its children, living and
	# exited (the exited ones' time is in the postmaster's cutime/cstime).
	pgcpu() {
		local pm
		pm=$(head -1 "$work/pg/postmaster.pid")
		{ awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
			for c in $(pgrep -P "$pm" || true); do awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || true; done; } |
			awk -v hz="$(getconf CLK_TCK)" '{s += $1} END {printf "%.1f", s / hz}'
	}
	cpu0=$(pgcpu)
	start=$(date +%s.%N)
	instance_pids=""
	for i in $(seq "$instances"); do
		if [ "${PGCMD:-serve}" = poll ]; then
			# The path of the SQLite figures: one poll --all.
			prof=()
			[ -n "${CPUPROFILE:-}" ] && prof=(--cpuprofile "$CPUPROFILE")
			/usr/bin/time -f "%M" -o "$work/rss$i" "$work/storyline" --config "$work/pg.yaml" "${prof[@]}" poll --all >"$work/serve$i.log" 2>&1 &
		else
			"$work/storyline" --config "$work/pg.yaml" serve >"$work/serve$i.log" 2>&1 &
		fi
		instance_pids="$instance_pids $!"
	done
	while :; do
		n=$(psqlq 'SELECT (SELECT COUNT(*) FROM entries) * (1 - LEAST(1, (SELECT COUNT(*) FROM pending_entries)))' 2>/dev/null || echo 0)
		[ "$n" -ge "$total" ] && break
		sleep 0.2
	done
	end=$(date +%s.%N)
	cpu1=$(pgcpu)
	rss=""
	i=0
	for pid in $instance_pids; do
		i=$((i + 1))
		if [ "${PGCMD:-serve}" = poll ]; then
			wait "$pid"
			rss="$rss $(awk '{printf "%.0f", $1 / 1024}' "$work/rss$i") MiB"
		else
			rss="$rss $(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status") MiB"
		fi
	done
	awk -v n="$total" -v a="$start" -v b="$end" -v k="$instances" -v rss="$rss" -v c0="$cpu0" -v c1="$cpu1" 'BEGIN {
		t = b - a
		printf "postgres, %d instance(s): %d items stored and clustered in %.1f s: %.0f items/s; peak RSS%s; PostgreSQL CPU %.1f s (%.0f%% of one core)\n",
			k, n, t, n / t, rss, c1 - c0, 100 * (c1 - c0) / t
	}'
	echo "stored: $(psqlq 'SELECT COUNT(*) FROM entries') entries, $(psqlq 'SELECT COUNT(*) FROM topics') storylines," \
		"database $(psqlq "SELECT pg_database_size('storyline') / 1048576") MiB;" \
		"poll errors: $(cat "$work"/serve*.log | grep -c '"level":"WARN","msg":"poll"\|level=WARN msg=poll' || true)"
}

go build -o "$work/storyline" ./cmd/storyline
base="http://127.0.0.1:$port"
case "$mode" in
cold | pg)
	python3 "$gen" "$feeds" "$items" "$work/www/r0" "$base/r0" >/dev/null
	sets="r0"
	;;
rounds)
	python3 "$gen" "$feeds" "$items" "$work/www/r1" "$base/r1" 1 72 >/dev/null
	python3 "$gen" "$feeds" "$items" "$work/www/r2" "$base/r2" 2 72 >/dev/null
	sets="r1 r2"
	;;
*)
	echo "ingest.sh: mode must be cold, rounds or pg, not $mode" >&2
	exit 2
	;;
esac

if command -v nginx >/dev/null; then
	cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon on;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	types { application/rss+xml xml; }
	server { listen 127.0.0.1:$port; root $work/www; }
}
EOF
	nginx -c "$work/nginx.conf" -p "$work"
	echo "server: nginx"
else
	(cd "$work/www" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
	server=$!
	echo "server: python3 -m http.server (slower: install nginx for a fair figure)"
fi
for _ in $(seq 50); do
	curl -fs -o /dev/null "$base/${sets%% *}/f0.xml" && break
	sleep 0.1
done

if [ "$mode" = pg ]; then
	pg_run
	exit 0
fi

db="$work/bench.db"
for s in $sets; do
	"$work/storyline" --db "$db" import "$work/www/$s/feeds.opml" >/dev/null
	prof=()
	[ -n "${CPUPROFILE:-}" ] && prof=(--cpuprofile "$CPUPROFILE")
	[ -n "${MEMPROFILE:-}" ] && prof+=(--memprofile "$MEMPROFILE")
	start=$(date +%s.%N)
	/usr/bin/time -f "%M" -o "$work/rss" "$work/storyline" --db "$db" "${prof[@]}" poll --all >"$work/out" 2>&1 ||
		{ tail -5 "$work/out" >&2; exit 1; }
	end=$(date +%s.%N)
	total=$(tail -1 "$work/out")
	n=$(echo "$total" | sed -n 's/.* \([0-9]*\) new entries.*/\1/p')
	errors=$(echo "$total" | sed -n 's/.* \([0-9]*\) errors.*/\1/p')
	awk -v s="$s" -v n="$n" -v a="$start" -v b="$end" -v rss="$(cat "$work/rss")" -v e="$errors" 'BEGIN {
		t = b - a
		printf "%s: %d items in %.1f s: %.0f items/s, %.2f ms per item, peak RSS %.0f MiB, %d errors\n",
			s, n, t, n / t, 1000 * t / n, rss / 1024, e
	}'
done
echo "stored: $(sqlite3 "$db" 'SELECT COUNT(*) FROM entries' 2>/dev/null || echo '?') entries," \
	"$(sqlite3 "$db" 'SELECT COUNT(DISTINCT topic_id) FROM topic_entries' 2>/dev/null || echo '?') storylines," \
	"database $(sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null 2>&1; du -m "$db" | cut -f1) MiB" \
	"(topic states $(sqlite3 "$db" 'SELECT SUM(LENGTH(state)) / 1048576 FROM topics' 2>/dev/null || echo '?') MiB)"
