#!/usr/bin/env bash
# Soak: the dashboard against a PostgreSQL source of EVENTS events (default
# 1M), reloading every 10 s for MINUTES minutes (default 30), in tmux.
# Every 30 s, at rest (just after a reload has finished, which the screen
# shows), it samples keyhole's RSS, open file descriptors and sessions on
# the server, then prints the first and last samples, the spread and the
# peak RSS.
#
# usage: bench/soak.sh [EVENTS] [MINUTES]     (needs tmux and PostgreSQL on 127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
minutes=${2:-30}
db=kh_soak
work=${SOAK_DIR:-/tmp/keyhole-soak}
mkdir -p "$work"
cargo build --release -q
bin=$PWD/target/release/keyhole
admin=(psql -X -q -t -A -h 127.0.0.1 -U postgres -d postgres)
if [ "$("${admin[@]}" -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  "${admin[@]}" -c "CREATE DATABASE $db"
  "$bin" demo --no-tui --events "$events" --path "$work/demo.sqlite" --load-into "postgres://postgres@127.0.0.1:5432/$db" >/dev/null
fi
session=kh-soak-$$
tmux new-session -d -s "$session" -x 120 -y 40 \
  "XDG_DATA_HOME=$work XDG_STATE_HOME=$work $bin --db postgres://postgres@127.0.0.1:5432/$db --policy assets/demo-policy.toml; sleep 600"
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT
sleep 2
pid=$(pgrep -P "$(tmux list-panes -t "$session" -F '#{pane_pid}')" keyhole)
# The first load, before anything is measured.
for _ in $(seq 1 600); do
  tmux capture-pane -p -t "$session" | grep -q 'loaded' && break
  sleep 0.5
done
samples="$work/samples.tsv"
echo -e "seconds\trss_mb\tfds\tsessions" > "$samples"
start=$(date +%s)
next_sample=$start
# Waits for the reload to show (⟳ beside the tabs), then for it to finish.
settle() {
  for _ in $(seq 1 50); do
    tmux capture-pane -p -t "$session" | head -1 | grep -q '⟳' && break
    sleep 0.1
  done
  for _ in $(seq 1 240); do
    if ! tmux capture-pane -p -t "$session" | head -1 | grep -q '⟳'; then return 0; fi
    sleep 0.5
  done
}
loads=0
while [ $(( $(date +%s) - start )) -lt $(( minutes * 60 )) ]; do
  began=$(date +%s)
  tmux send-keys -t "$session" r
  settle
  loads=$(( loads + 1 ))
  now=$(date +%s)
  # Sampled at rest: just after a load has finished.
  if [ "$now" -ge "$next_sample" ]; then
    rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
    fds=$(ls "/proc/$pid/fd" | wc -l)
    sess=$("${admin[@]}" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'")
    echo -e "$(( now - start ))\t$rss\t$fds\t$sess" >> "$samples"
    next_sample=$(( now + 30 ))
  fi
  # The next reload 10 s after this one began (at once if the load took longer).
  left=$(( began + 10 - $(date +%s) ))
  [ "$left" -gt 0 ] && sleep "$left"
done
peak=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
tmux send-keys -t "$session" q q
column -t "$samples" | sed -n '1,4p;$p'
awk -F'\t' 'NR==2 {first=$2} NR>2 {if (min=="" || $2<min) min=$2; if ($2>max) max=$2} NR>1 {if (fmin=="" || $3<fmin) fmin=$3; if ($3>fmax) fmax=$3; if ($4>smax) smax=$4}
  END {printf "RSS at rest: %d MB after the first load; %d to %d MB after the reloads that followed (spread %.1f%% of the largest); fds %d to %d; sessions at most %d\n", first, min, max, (max-min)*100/max, fmin, fmax, smax}' "$samples"
echo "peak RSS (VmHWM, mid-load): $peak MB; $loads reloads"
