#!/usr/bin/env bash
# Times `keyhole report flags --format json` over a million demo events in
# SQLite and in PostgreSQL, beside the floor: psql COPY of the same
# access_events query over the same rows. Prints wall time, peak RSS and the
# ratio to the COPY floor. Needs PostgreSQL on 127.0.0.1:5432 (user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-1000000}
ANCHOR=2026-11-24
FROM=2026-08-26   # the anchor minus the 90 days of demo history
cargo build --release --quiet
work=$(mktemp -d)
db=kh_bench_$$
trap 'rm -rf "$work"; psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $db"
./target/release/keyhole demo --no-tui --events "$EVENTS" --anchor $ANCHOR --path "$work/demo.sqlite" \
  --load-into "postgres://postgres@127.0.0.1/$db" >/dev/null
psql -h 127.0.0.1 -U postgres -d "$db" -qc "VACUUM ANALYZE" >/dev/null
window=(--from $FROM --to $ANCHOR --as-of ${ANCHOR}T00:00:00Z)
policy=assets/demo-policy.toml

measure() { # label, command...
  local label=$1; shift
  local best=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null
    read -r secs rss <"$work/t"
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; bestrss=$rss; fi
  done
  printf '%-28s %8.2f s %8d MB\n' "$label" "$best" $((bestrss / 1024))
  eval "T_${label//[^a-zA-Z]/_}=$best"
}

# The access_events query over the whole history, as keyhole reads it (in days) but in one COPY.
q=$(sed -e 's/--.*$//' queries/postgres/access_events.sql | tr '\n' ' ' \
    | sed -e "s/\$1/'2026-07-27T04:00:00Z'::timestamptz/" -e "s/\$2/'${ANCHOR}T05:00:00Z'::timestamptz/")
measure copy_floor psql -h 127.0.0.1 -U postgres -d "$db" -qc "COPY ($q) TO STDOUT"
measure flags_postgres ./target/release/keyhole report flags --format json --db "postgres://postgres@127.0.0.1/$db" --policy $policy "${window[@]}"
measure flags_sqlite ./target/release/keyhole report flags --format json --db "sqlite://$work/demo.sqlite" "${window[@]}"
awk "BEGIN{printf \"ratio postgres/copy: %.2f\n\", $T_flags_postgres / $T_copy_floor}"
