#!/usr/bin/env bash
# Parsing speed of database audit logs, side by side with pgbadger on the
# same pgAudit stderr log (default 1 GB, made by bench/pgaudit_gen.py from
# the shape of the captured fixture). Prints wall time, throughput and
# peak memory of each.
#
# usage: bench/dblog.sh [SIZE_MB]     (needs pgbadger: apt-get install pgbadger)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
work=${BENCH_DIR:-/tmp/keyhole-bench}
mkdir -p "$work"
log="$work/pgaudit-${size}mb.log"
prefix='%m [%p] user=%u db=%d app=%a client=%h '
[ -s "$log" ] || python3 bench/pgaudit_gen.py "$size" "$log"
command -v pgbadger >/dev/null || { echo "pgbadger is not installed (apt-get install pgbadger)" >&2; exit 1; }
cargo build --release --example dblog_bench -q
bytes=$(stat -c %s "$log")

measure() { # name, command...
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$@" >"$work/out" 2>&1
  t1=$(date +%s.%N)
  local secs rss
  secs=$(echo "$t1 - $t0" | bc)
  rss=$(( $(cat "$work/rss") / 1024 ))
  printf '%-34s %8.1f s %8.0f MB/s %8d MB peak RSS\n' "$name" "$secs" "$(echo "$bytes / 1000000 / $secs" | bc -l)" "$rss"
  echo "$secs" > "$work/$name.secs"
}

echo "log: $log ($((bytes / 1000000)) MB)"
measure keyhole ./target/release/examples/dblog_bench --prefix "$prefix" "$log"
sed 's/^/  keyhole: /' "$work/out"
measure pgbadger pgbadger -q -j 1 -f stderr --prefix "$prefix" -o "$work/pgbadger.html" "$log"
echo "keyhole is $(echo "$(cat "$work/pgbadger.secs") / $(cat "$work/keyhole.secs")" | bc -l | cut -c1-4)x faster than pgbadger"
