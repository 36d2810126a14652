#!/usr/bin/env bash
# Start the local emulators in the background, each in its own process group (setsid), and print the environment
# to export. PIDs (= PGIDs) go to $CTLOOP_STATE_DIR/emulators/<name>.pid (default .ctloop), ports to <name>.port: the
# records `ctloop up --emulators` and `ctloop demo --emulators` read, so they reuse what this script started.
# emulators/stop.sh kills exactly those groups.
#   PUBSUB_PORT (default 8085), STORAGE_PORT (default 9199), FIRESTORE_PORT (default 8086), BIGTABLE_PORT (default 8087)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE_DIR="${CTLOOP_STATE_DIR:-.ctloop}"
case "$STATE_DIR" in /*) ;; *) STATE_DIR="$ROOT/$STATE_DIR" ;; esac
STATE="$STATE_DIR/emulators"
PUBSUB_PORT="${PUBSUB_PORT:-8085}"
STORAGE_PORT="${STORAGE_PORT:-9199}"
FIRESTORE_PORT="${FIRESTORE_PORT:-8086}"
BIGTABLE_PORT="${BIGTABLE_PORT:-8087}"
mkdir -p "$STATE"

running() { # running <name>: true when its recorded process group is alive
  local f="$STATE/$1.pid"
  [ -f "$f" ] && kill -0 -- "-$(cat "$f")" 2>/dev/null
}

wait_for() { # wait_for <name> <log> <text> <seconds>
  local name="$1" log="$2" text="$3" secs="$4" i=0
  while ! grep -q "$text" "$log" 2>/dev/null; do
    if ! running "$name"; then echo "error: $name exited during startup; see $log" >&2; tail -n 20 "$log" >&2; return 1; fi
    i=$((i + 1))
    if [ "$i" -gt $((secs * 10)) ]; then echo "error: $name not ready after ${secs}s; see $log" >&2; return 1; fi
    sleep 0.1
  done
}

start_group() { # start_group <name> <port> <log> <command...>: the child shell records its own PID, which is the PGID
  local name="$1" port="$2" log="$3"
  shift 3
  echo "$port" > "$STATE/$name.port"
  setsid sh -c 'echo $$ > "$0"; exec "$@"' "$STATE/$name.pid" "$@" >"$log" 2>&1 </dev/null &
  local i=0
  while [ ! -s "$STATE/$name.pid" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

# --- Pub/Sub emulator (Google's, from the gcloud SDK; needs java) ---
if running pubsub; then
  echo "pubsub emulator already running (pgid $(cat "$STATE/pubsub.pid"))" >&2
else
  rm -f "$STATE/pubsub.pid" "$STATE/pubsub.port"
  command -v gcloud >/dev/null || { echo "error: gcloud not found; install the Google Cloud SDK (pubsub-emulator component)" >&2; exit 1; }
  command -v java >/dev/null || { echo "error: java not found; apt-get install -y default-jre-headless" >&2; exit 1; }
  SDK_ROOT="$(gcloud info --format='value(installation.sdk_root)')"
  EMU="$SDK_ROOT/platform/pubsub-emulator/bin/cloud-pubsub-emulator"
  [ -x "$EMU" ] || { echo "error: $EMU missing; gcloud components install pubsub-emulator (or apt-get install google-cloud-cli-pubsub-emulator)" >&2; exit 1; }
  start_group pubsub "$PUBSUB_PORT" "$STATE/pubsub.log" "$EMU" --host=127.0.0.1 --port="$PUBSUB_PORT"
  wait_for pubsub "$STATE/pubsub.log" "Server started, listening on $PUBSUB_PORT" 60
  echo "pubsub emulator on 127.0.0.1:$PUBSUB_PORT (pgid $(cat "$STATE/pubsub.pid"), log $STATE/pubsub.log)" >&2
fi

# --- Cloud Storage emulator (in-process firebase-tools, see emulators/storage-emulator.ts) ---
STORAGE_ENV=""
if [ -f "$ROOT/emulators/storage-emulator.ts" ]; then
  if running storage; then
    echo "storage emulator already running (pgid $(cat "$STATE/storage.pid"))" >&2
  else
    rm -f "$STATE/storage.pid" "$STATE/storage.port"
    start_group storage "$STORAGE_PORT" "$STATE/storage.log" node "$ROOT/bin/run-ts.mjs" "$ROOT/emulators/storage-emulator.ts" --port "$STORAGE_PORT"
    wait_for storage "$STATE/storage.log" "STORAGE_EMULATOR_HOST=" 60
    echo "storage emulator on 127.0.0.1:$STORAGE_PORT (pgid $(cat "$STATE/storage.pid"), log $STATE/storage.log)" >&2
  fi
  STORAGE_ENV="export STORAGE_EMULATOR_HOST=http://127.0.0.1:$STORAGE_PORT"
else
  echo "storage emulator: emulators/storage-emulator.ts not found, skipped (use CTLOOP_OBJECT_STORE=local)" >&2
fi

# --- Online store emulators (Google's, from the gcloud SDK): Firestore (needs java 17) and Bigtable (a Go binary) ---
ONLINE_ENV=""
SDK_ROOT="${SDK_ROOT:-$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)}"
FS_EMU="$SDK_ROOT/platform/cloud-firestore-emulator/cloud_firestore_emulator"
if running firestore; then
  echo "firestore emulator already running (pgid $(cat "$STATE/firestore.pid"))" >&2
  ONLINE_ENV="export FIRESTORE_EMULATOR_HOST=127.0.0.1:$FIRESTORE_PORT"
elif [ -x "$FS_EMU" ]; then
  rm -f "$STATE/firestore.pid" "$STATE/firestore.port"
  start_group firestore "$FIRESTORE_PORT" "$STATE/firestore.log" "$FS_EMU" start --host=127.0.0.1 --port="$FIRESTORE_PORT"
  wait_for firestore "$STATE/firestore.log" "Dev App Server is now running" 60
  echo "firestore emulator on 127.0.0.1:$FIRESTORE_PORT (pgid $(cat "$STATE/firestore.pid"), log $STATE/firestore.log)" >&2
  ONLINE_ENV="export FIRESTORE_EMULATOR_HOST=127.0.0.1:$FIRESTORE_PORT"
else
  echo "firestore emulator: $FS_EMU missing, skipped (gcloud components install cloud-firestore-emulator)" >&2
fi
BT_EMU="$SDK_ROOT/platform/bigtable-emulator/cbtemulator"
BIGTABLE_ENV=""
if running bigtable; then
  echo "bigtable emulator already running (pgid $(cat "$STATE/bigtable.pid"))" >&2
  BIGTABLE_ENV="export BIGTABLE_EMULATOR_HOST=127.0.0.1:$BIGTABLE_PORT"
elif [ -x "$BT_EMU" ]; then
  rm -f "$STATE/bigtable.pid" "$STATE/bigtable.port"
  start_group bigtable "$BIGTABLE_PORT" "$STATE/bigtable.log" "$BT_EMU" -host 127.0.0.1 -port "$BIGTABLE_PORT"
  wait_for bigtable "$STATE/bigtable.log" "running on 127.0.0.1:$BIGTABLE_PORT" 30
  echo "bigtable emulator on 127.0.0.1:$BIGTABLE_PORT (pgid $(cat "$STATE/bigtable.pid"), log $STATE/bigtable.log)" >&2
  BIGTABLE_ENV="export BIGTABLE_EMULATOR_HOST=127.0.0.1:$BIGTABLE_PORT"
else
  echo "bigtable emulator: $BT_EMU missing, skipped (gcloud components install bigtable)" >&2
fi

# The environment, on stdout: eval "$(emulators/start.sh)"
echo "export PUBSUB_EMULATOR_HOST=127.0.0.1:$PUBSUB_PORT"
[ -n "$STORAGE_ENV" ] && echo "$STORAGE_ENV"
[ -n "$ONLINE_ENV" ] && echo "$ONLINE_ENV" && echo "export CTLOOP_ONLINE_STORE=firestore"
[ -n "$BIGTABLE_ENV" ] && echo "$BIGTABLE_ENV"
echo "export METADATA_SERVER_DETECTION=none"
echo "export CTLOOP_MODE=emulators"
