#!/usr/bin/env bash
# Stop the emulators started by emulators/start.sh: kills only the process groups recorded in
# $CTLOOP_STATE_DIR/emulators/ (default .ctloop/emulators/). `ctloop up` and `ctloop demo --emulators` stop their own.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE_DIR="${CTLOOP_STATE_DIR:-.ctloop}"
case "$STATE_DIR" in /*) ;; *) STATE_DIR="$ROOT/$STATE_DIR" ;; esac
STATE="$STATE_DIR/emulators"
shopt -s nullglob
stopped=0
for f in "$STATE"/*.pid; do
  name="$(basename "$f" .pid)"
  pgid="$(cat "$f")"
  case "$pgid" in ''|*[!0-9]*) echo "skip $f: not a process group id" >&2; rm -f "$f" "$STATE/$name.port"; continue ;; esac
  if kill -0 -- "-$pgid" 2>/dev/null; then
    kill -TERM -- "-$pgid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    kill -0 -- "-$pgid" 2>/dev/null && kill -KILL -- "-$pgid" 2>/dev/null
    echo "stopped $name (pgid $pgid)" >&2
    stopped=$((stopped + 1))
  else
    echo "$name was not running (stale pgid $pgid)" >&2
  fi
  rm -f "$f" "$STATE/$name.port"
done
[ "$stopped" -gt 0 ] || echo "no emulators running" >&2
