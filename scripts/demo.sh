#!/usr/bin/env bash
# Starts the loopback demo server (kept in .demo/) unless one is already running,
# and the Rounds app signed in as a demo member of staff.
#   scripts/demo.sh               # nurse.kim
#   AS=dr.osei scripts/demo.sh    # a second window as another user
#   SHARED=1 scripts/demo.sh      # a shared ward phone (phone-size window, its own data dir)
# The server stops when the window that started it closes.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=.demo/prosody
as=${AS:-nurse.kim}
mkdir -p "$dir"

running() { [ -f "$dir/demo.env" ] && . "$dir/demo.env" && curl -fs -o /dev/null "${ROUNDS_SERVER_URL/ws:/http:}" 2>/dev/null; }
if ! running; then
  rm -f "$dir/demo.env"
  bin/demoserver -dir "$dir" > .demo/server.out 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do
    [ -f "$dir/demo.env" ] && break
    kill -0 $server 2>/dev/null || { cat .demo/server.out >&2; echo "demo: server failed to start" >&2; exit 1; }
    sleep 0.1
  done
  [ -f "$dir/demo.env" ] || { echo "demo: server not ready" >&2; exit 1; }
fi
set -a; . "$dir/demo.env"; set +a
echo "demo: Prosody on $ROUNDS_SERVER_URL; staff: $ROUNDS_DEMO_ACCOUNTS (password: $ROUNDS_DEMO_PASSWORD)"
echo "demo: signing in as $as@$ROUNDS_DEMO_DOMAIN; another window: AS=dr.osei make demo"
if [ -n "${SHARED:-}" ]; then
  # One phone, several nurses: every profile lives in this one data dir.
  echo "demo: a shared ward phone; sign in, then Lock now, Sign in another person, Switch user, End shift"
  export ROUNDS_WINDOW_SIZE="${ROUNDS_WINDOW_SIZE:-390x844}"
  ROUNDS_ACCOUNT="$as@$ROUNDS_DEMO_DOMAIN" ROUNDS_DATA_DIR="${ROUNDS_DATA_DIR:-$PWD/.demo/app-shared-phone}" exec bin/rounds "$@"
fi
ROUNDS_ACCOUNT="$as@$ROUNDS_DEMO_DOMAIN" ROUNDS_DATA_DIR="${ROUNDS_DATA_DIR:-$PWD/.demo/app-$as}" bin/rounds "$@"
