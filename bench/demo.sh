#!/usr/bin/env bash
# Times the demo generator (and `keyhole check` over its output) at 200k and
# 1M events, with peak memory. Figures go into the README by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for n in 200000 1000000; do
  /usr/bin/time -f "demo  events=$n  wall=%es  peak_rss=%MkB" \
    ./target/release/keyhole demo --no-tui --force --events "$n" --anchor 2026-11-24 --path "$out/d$n.sqlite" >/dev/null
  /usr/bin/time -f "check events=$n  wall=%es  peak_rss=%MkB" \
    ./target/release/keyhole check --db "sqlite://$out/d$n.sqlite" >/dev/null
done
