#!/usr/bin/env bash
# Starts the loopback demo server (kept in .demo/) and the Rounds app pointed at it.
# The server stops when the app exits.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=.demo/prosody
mkdir -p "$dir"
rm -f "$dir/demo.env"
bin/demoserver -dir "$dir" > .demo/server.out 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT

for _ in $(seq 1 200); do
  [ -f "$dir/demo.env" ] && break
  kill -0 $server 2>/dev/null || { cat .demo/server.out >&2; echo "demo: server failed to start" >&2; exit 1; }
  sleep 0.1
done
[ -f "$dir/demo.env" ] || { echo "demo: server not ready" >&2; exit 1; }
set -a; . "$dir/demo.env"; set +a
echo "demo: Prosody on $ROUNDS_SERVER_URL; staff accounts: $ROUNDS_DEMO_ACCOUNTS (password: $ROUNDS_DEMO_PASSWORD)"
ROUNDS_DATA_DIR="${ROUNDS_DATA_DIR:-$PWD/.demo/app}" bin/rounds "$@"
