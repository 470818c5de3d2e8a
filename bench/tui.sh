#!/usr/bin/env bash
# The dashboard at scale: bench/scale.sh's data (1M customers, 10,000 staff,
# a relationship row per three events) in SQLite, opened by the dashboard's
# loader over the whole quarter; prints load time, memory, frame, filter and
# search latencies for each size in EVENTS (default 1M and 10M).
#
#   bench/tui.sh
#   EVENTS=10000000 bench/tui.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DASHBOARD=1 SOURCES=sqlite REPORTS="" exec bench/scale.sh
