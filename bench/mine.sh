#!/usr/bin/env bash
# Mining at scale: the scale benchmark's retailer (bench/scale.sh) at EVENTS
# events (default 2.5M, a quarter of its 10M) in SQLite. `keyhole init`
# drafts the query files; `keyhole explain --mine` mines relationships.sql
# over the 90-day window; both are timed with their peak RSS. The mined file
# is then compared with the hand-written one: the accesses each explains.
#
#   bench/mine.sh                 # 2,500,000 events
#   EVENTS=1000000 bench/mine.sh  # another size, to see how memory grows
#
# Needs the sqlite3 CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-2500000}
FROM=2026-08-26
TO=2026-11-24
cargo build --release --quiet --bin keyhole --example scale_gen
work=$(mktemp -d "${TMPDIR:-/tmp}/keyhole-mine.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp target/release/keyhole target/release/examples/scale_gen "$work/"
kh=$work/keyhole
gen=$work/scale_gen
db=$work/scale.sqlite
echo "generating $EVENTS events…" >&2
$gen --events "$EVENTS" --out "$work/tsv" 2>/dev/null
{
  $gen --ddl sqlite
  echo ".mode tabs"
  for t in employees customers support_tickets client_book orders access_audit; do
    echo ".import $work/tsv/$t.tsv $t"
  done
  for tc in "employees left_at" "customers employee_no" "support_tickets closed_at" \
    "client_book released_at" "orders shipped_at" "access_audit reason" "access_audit case_ref"; do
    set -- $tc
    echo "UPDATE $1 SET $2 = NULL WHERE $2 = '\\N';"
  done
  $gen --indexes
  echo "ANALYZE;"
} | sqlite3 "$db"
rm -rf "$work/tsv"
url="sqlite://$db"
policy=assets/demo-policy.toml

/usr/bin/time -f "%e %M" -o "$work/t.init" "$kh" init --db "$url" --out "$work/init" >"$work/init.out" || true
read -r init_s init_kb <"$work/t.init"
mkdir -p "$work/q"
cp "$work/init/queries/"*.sql "$work/q/"
# Roles are a business decision: the hand-written staff.sql maps them.
cp queries/sqlite/staff.sql "$work/q/"
/usr/bin/time -f "%e %M" -o "$work/t.mine" "$kh" --db "$url" --queries "$work/q" --policy "$policy" \
  explain --mine --from "$FROM" --to "$TO" --write "$work/q/relationships.sql" >"$work/mine.out"
read -r mine_s mine_kb <"$work/t.mine"
cat "$work/mine.out"

# What each relationships.sql explains: no_relationship flags, hand against mined.
flags() { "$kh" --db "$url" --policy "$policy" "$@" report flags --format json --rule no_relationship --from "$FROM" --to "$TO" --as-of "$TO"; }
flags >"$work/hand.json"
flags --queries "$work/q" >"$work/mined.json"
python3 - "$work/hand.json" "$work/mined.json" <<'EOF'
import json, sys
def keys(p):
    return {f["key"] for f in json.load(open(p))["flags"]}
h, m = keys(sys.argv[1]), keys(sys.argv[2])
print(f"no_relationship flags: hand-written {len(h)}, mined {len(m)}; "
      f"flagged only with mined {len(m - h)}, only with hand-written {len(h - m)}")
EOF
printf '\n| step | wall s | peak RSS MB |\n|---|---|---|\n'
printf '| init (catalogue, samples, check) | %s | %d |\n' "$init_s" $((init_kb / 1024))
printf '| explain --mine, %s events, 90 days | %s | %d |\n' "$EVENTS" "$mine_s" $((mine_kb / 1024))
