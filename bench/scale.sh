#!/usr/bin/env bash
# The scale benchmark: a retailer's quarter (1M customers, 10,000 staff, one
# relationship row per three events) at each size in EVENTS, loaded into
# SQLite, PostgreSQL and MariaDB. For each source it times the floor (the
# database's own client reading the access_events query over the whole
# window to /dev/null) and then `keyhole report flags --format json` and
# `keyhole report accesses --format csv` over the same window, and prints
# one table: wall time, ratio to the floor, events per second, peak RSS.
#
#   bench/scale.sh                       # 1M and 10M events, every source
#   EVENTS=1000000 SOURCES=postgres bench/scale.sh
#   DASHBOARD=1 bench/scale.sh           # also the dashboard on the SQLite copy
#                                        # (bench/tui.sh: the dashboard only)
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and MariaDB on
# 127.0.0.1:3306 (root, no password), as on this machine, and the sqlite3
# CLI. Scratch databases are dropped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-"1000000 10000000"}
SOURCES=${SOURCES:-"sqlite postgres mysql"}
REPORTS=${REPORTS-"flags accesses"}
REPEAT=${REPEAT:-1}
DASHBOARD=${DASHBOARD:-0}
ANCHOR=2026-11-24
FROM=2026-08-26 # the 90 days before the anchor, local days (America/New_York)
# Every row of the data set, in UTC, for the floors.
LO='2026-07-27 04:00:00'
HI='2026-11-24 05:00:00'

cargo build --release --quiet --bin keyhole --example scale_gen --example tui_bench
work=$(mktemp -d "${TMPDIR:-/tmp}/keyhole-scale.XXXXXX")
# Copies, so a rebuild during a long run does not change what is measured.
cp target/release/keyhole target/release/examples/scale_gen target/release/examples/tui_bench "$work/"
kh=$work/keyhole
gen=$work/scale_gen
tag=kh_scale_$$
PG=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres)
MY=(mariadb -h 127.0.0.1 -u root)
cleanup() {
  rm -rf "$work"
  for n in $EVENTS; do
    "${PG[@]}" -d test -c "DROP DATABASE IF EXISTS ${tag}_$n" >/dev/null 2>&1 || true
    "${MY[@]}" -e "DROP DATABASE IF EXISTS ${tag}_$n" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

# The built-in access_events query with the window as literals.
query() { # dialect
  sed -e 's/--.*$//' "queries/$1/access_events.sql" | tr '\n' ' ' |
    case $1 in
      postgres) sed -e "s/\$1/'$LO+00'::timestamptz/" -e "s/\$2/'$HI+00'::timestamptz/" ;;
      sqlite) sed -e "s/?1/'$LO'/" -e "s/?2/'$HI'/" ;;
      mysql) sed -e "0,/?/s//'$LO'/" -e "0,/?/s//'$HI'/" ;;
    esac
}

NULLABLE_SQLITE=(
  "employees left_at" "customers employee_no" "support_tickets closed_at"
  "client_book released_at" "orders shipped_at" "access_audit reason" "access_audit case_ref"
)

load() { # source, events, dir
  local src=$1 n=$2 dir=$3
  case $src in
    sqlite)
      local f="$work/scale_$n.sqlite"
      {
        $gen --ddl sqlite
        echo ".mode tabs"
        for t in employees customers support_tickets client_book orders access_audit; do
          echo ".import $dir/$t.tsv $t"
        done
        for tc in "${NULLABLE_SQLITE[@]}"; do
          set -- $tc
          echo "UPDATE $1 SET $2 = NULL WHERE $2 = '\\N';"
        done
        $gen --indexes
        echo "ANALYZE;"
      } | sqlite3 "$f"
      ;;
    postgres)
      "${PG[@]}" -d test -c "CREATE DATABASE ${tag}_$n" >/dev/null
      {
        echo "SET TimeZone = 'UTC';"
        $gen --ddl postgres
        for t in employees customers support_tickets client_book orders access_audit; do
          echo "\\copy $t FROM '$dir/$t.tsv'"
        done
        $gen --indexes
        echo "VACUUM ANALYZE;"
      } | PGTZ=UTC "${PG[@]}" -d "${tag}_$n" >/dev/null
      ;;
    mysql)
      "${MY[@]}" -e "CREATE DATABASE ${tag}_$n" >/dev/null
      {
        echo "SET time_zone = '+00:00';"
        $gen --ddl mysql
        for t in employees customers support_tickets client_book orders access_audit; do
          echo "LOAD DATA LOCAL INFILE '$dir/$t.tsv' INTO TABLE $t;"
        done
        $gen --indexes
        echo "ANALYZE TABLE access_audit, customers, support_tickets, client_book, orders;"
      } | "${MY[@]}" --local-infile=1 "${tag}_$n" >/dev/null
      ;;
  esac
}

url() { # source, events
  case $1 in
    sqlite) echo "sqlite://$work/scale_$2.sqlite" ;;
    postgres) echo "postgres://postgres@127.0.0.1/${tag}_$2" ;;
    mysql) echo "mysql://root@127.0.0.1/${tag}_$2" ;;
  esac
}

floor_cmd() { # source, events: sets FLOOR to the floor's command line
  case $1 in
    sqlite) FLOOR=(sqlite3 "$work/scale_$2.sqlite" "$(query sqlite)") ;;
    postgres) FLOOR=("${PG[@]}" -d "${tag}_$2" -c "COPY ($(query postgres)) TO STDOUT") ;;
    mysql) FLOOR=("${MY[@]}" --quick -N "${tag}_$2" -e "$(query mysql)") ;;
  esac
}

# Best wall time of REPEAT runs, with that run's peak RSS: "secs kb".
measure() {
  local best="" bestrss=0
  for _ in $(seq "$REPEAT"); do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null
    read -r secs rss <"$work/t"
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; bestrss=$rss; fi
  done
  echo "$best $bestrss"
}

date=$(date -u +%Y-%m-%d)
rows=()
dash=()
for n in $EVENTS; do
  dir="$work/data_$n"
  $gen --events "$n" --out "$dir" 2>/dev/null
  rels=$(cat "$dir"/support_tickets.tsv "$dir"/client_book.tsv "$dir"/orders.tsv | wc -l)
  for src in $SOURCES; do
    t0=$(date +%s)
    load "$src" "$n" "$dir"
    echo "loaded $n events into $src in $(($(date +%s) - t0)) s" >&2
    floor_cmd "$src" "$n"
    [ -n "$REPORTS" ] && read -r fs frss < <(measure "${FLOOR[@]}") &&
    rows+=("$(printf '| %s | %s | floor (%s client) | %.2f s | 1.00× | %s | %d MB |' \
      "$n" "$src" "$src" "$fs" "$(awk "BEGIN{printf \"%.0f\", $n / $fs}")" $((frss / 1024)))")
    for r in $REPORTS; do
      fmt=json
      [ "$r" = accesses ] && fmt=csv
      read -r ks krss < <(measure $kh report "$r" --format $fmt --db "$(url "$src" "$n")" \
        --policy assets/demo-policy.toml --from $FROM --to $ANCHOR --as-of ${ANCHOR}T00:00:00Z)
      rows+=("$(printf '| %s | %s | `report %s` | %.2f s | %.2f× | %s | %d MB |' \
        "$n" "$src" "$r" "$ks" "$(awk "BEGIN{print $ks / $fs}")" \
        "$(awk "BEGIN{printf \"%.0f\", $n / $ks}")" $((krss / 1024)))")
    done
    if [ "$DASHBOARD" = 1 ] && [ "$src" = sqlite ]; then
      # The dashboard over the same window, with the process's peak RSS.
      out=$(/usr/bin/time -f "peak RSS (process)        %M kB" "$work/tui_bench" \
        --db "$(url sqlite "$n")" --from $FROM --to $ANCHOR 2>&1)
      dash+=("dashboard, $n events:" "$out" "")
    fi
    case $src in
      sqlite) rm -f "$work/scale_$n.sqlite" ;;
      postgres) "${PG[@]}" -d test -c "DROP DATABASE ${tag}_$n" >/dev/null ;;
      mysql) "${MY[@]}" -e "DROP DATABASE ${tag}_$n" >/dev/null ;;
    esac
  done
  echo "events=$n: 1,000,000 subjects, 10,000 staff, $rels relationship rows" >&2
  rm -rf "$dir"
done

echo "bench/scale.sh, $date, $(nproc) cores"
echo
echo "| events | source | run | wall | ratio to floor | events/s | peak RSS |"
echo "|---|---|---|---|---|---|---|"
[ ${#rows[@]} -gt 0 ] && printf '%s\n' "${rows[@]}"
if [ ${#dash[@]} -gt 0 ]; then
  echo
  printf '%s\n' "${dash[@]}"
fi
