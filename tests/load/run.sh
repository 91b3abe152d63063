#!/usr/bin/env bash
# Load numbers for the README: requests/s and latency of GET /healthz, POST /api/v1/auth/login,
# GET /api/v1/me, GET /api/v1/cohorts/{id}, a 50-member page of a 500-member cohort and the home
# screen of a user in 20 cohorts, a check-in POST without and with an Idempotency-Key, and skill-share
# sign-ups (members signing up and leaving again, every request a write: all on one slot of 10
# places, which serialise on its row lock and keep a waitlist moving, then spread over 20 slots),
# with wrk, against the release binary on SQLite and PostgreSQL (seeded through the API); then the
# session-materialising, rota-planning and reminder benchmarks (the reminders on both backends).
# Only loopback addresses are targeted; every run is bounded by DURATION.
# Usage: tests/load/run.sh [DURATION_SECONDS]   (default 10)
# Environment: CONNECTIONS (16), MEMBERS (500), BENCHES=0 skips the cargo benches at the end,
# CARGO_TARGET_DIR is honoured, and CARGO_LOCK=FILE runs each cargo command under `flock FILE`
# (held only while cargo runs, never during the wrk runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
CONNECTIONS=${CONNECTIONS:-16}
MEMBERS=${MEMBERS:-500}
command -v wrk >/dev/null || { apt-get update -q >/dev/null; apt-get install -y -q wrk >/dev/null; }
BENCHES=${BENCHES:-1}
cargo_locked() { if [ -n "${CARGO_LOCK:-}" ]; then flock "$CARGO_LOCK" cargo "$@"; else cargo "$@"; fi; }
cargo_locked build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/roundtable
WORK=$(mktemp -d /tmp/roundtable-load.XXXXXX)
source tests/pg.sh

server_pid=
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=; }
trap 'stop_server; pg_stop; echo "raw wrk output: $WORK"' EXIT

start_server() {  # $1 = DATABASE_URL
  DATABASE_URL="$1" ROUNDTABLE_LOG=error ROUNDTABLE_RATE_LIMIT_IP_PER_MINUTE=100000000 \
    ROUNDTABLE_RATE_LIMIT_ACCOUNT_PER_HOUR=100000000 "$BIN" --bind 127.0.0.1:0 >"$WORK/server.out" 2>>"$WORK/server.err" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q '^listening on ' "$WORK/server.out" && break; sleep 0.1; done
  grep -q "^listening on " "$WORK/server.out" || { cat "$WORK/server.err" >&2; exit 1; }
  BASE=$(sed -n 's/^listening on //p' "$WORK/server.out")
  eval "$(python3 tests/load/seed.py "$BASE" "$MEMBERS" "$WORK/tokens")"
}

measure() {  # $1 = backend, $2 = label, rest = wrk arguments; WRK_THREADS (2) wrk threads
  local backend=$1 label=$2; shift 2
  local out; out=$(wrk -t"${WRK_THREADS:-2}" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@")
  echo "$out" >>"$WORK/wrk-$backend.log"
  local rps p50 p99 errors socket
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  socket=$(awk '/Socket errors:/ {print $0}' <<<"$out" | sed 's/^ *Socket errors: *//')
  printf '| %-8s | %-28s | %8s | %8s | %8s | %s%s |\n' "$backend" "$label" "$rps" "$p50" "$p99" "${errors:-0}" "${socket:+ (socket: $socket)}"
  grep -E '^(Sign-ups:|  first other answer:)' <<<"$out" >&2 || true  # signup.lua's count of the answers
}

new_slot() {  # $1 = session id: the load user offers a skill share of 10 places there; prints its id
  curl -sf -X POST "$BASE/api/v1/sessions/$1/skill-shares" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{"title":"Load","minutes":5,"capacity":10}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

run_backend() {  # $1 = backend name, $2 = DATABASE_URL
  start_server "$2"
  measure "$1" "GET /healthz" "$BASE/healthz"
  measure "$1" "POST /api/v1/auth/login" -s tests/load/login.lua "$BASE/api/v1/auth/login"
  measure "$1" "GET /api/v1/me" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/me"
  measure "$1" "GET /api/v1/cohorts/{id}" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/cohorts/$COHORT"
  measure "$1" "GET .../members?limit=50" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/cohorts/$COHORT/members?limit=50"
  measure "$1" "GET /me/sessions (20 cohorts)" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/me/sessions?limit=20"
  local experiment
  experiment=$(curl -sf -X POST "$BASE/api/v1/cohorts/$COHORT/experiments" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{"title":"Load","success_signal":"Numbers"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  TOKEN=$TOKEN KEYED=0 measure "$1" "POST check-in" -s tests/load/check_in.lua "$BASE/api/v1/experiments/$experiment/check-ins"
  TOKEN=$TOKEN KEYED=1 measure "$1" "POST check-in + Idem.-Key" -s tests/load/check_in.lua "$BASE/api/v1/experiments/$experiment/check-ins"
  # Sign-ups: one wrk thread per connection, so that each connection's member leaves only after
  # their sign-up was answered (see signup.lua); the members are all but the load user (the presenter).
  local slot slots session spread=()
  slot=$(new_slot "$SESSION")
  for session in ${SESSIONS//,/ }; do spread+=("$(new_slot "$session")"); done
  slots=$(IFS=,; echo "${spread[*]}")
  SLOT=$slot TOKENS=$TOKENS THREADS=$CONNECTIONS WRK_THREADS=$CONNECTIONS \
    measure "$1" "POST/DELETE sign-up, 1 slot" -s tests/load/signup.lua "$BASE"
  SLOTS=$slots TOKENS=$TOKENS THREADS=$CONNECTIONS WRK_THREADS=$CONNECTIONS \
    measure "$1" "POST/DELETE sign-up, 20 slots" -s tests/load/signup.lua "$BASE"
  stop_server
}

echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s, release build, $(nproc) cores, load generator on the same machine"
echo
echo '| backend  | request                      |    req/s |      p50 |      p99 | non-2xx |'
echo '|----------|------------------------------|----------|----------|----------|---------|'
run_backend sqlite "sqlite://$WORK/load.db"
pg_start
run_backend postgres "$(pg_create_db roundtable_load)"

[ "$BENCHES" = 0 ] && exit 0
echo
echo "Storing 5 years of weekly sessions for 1,000 series (tests/bench/materialize.rs):"
ROUNDTABLE_BENCH_PG_URL="$(pg_create_db roundtable_bench)" cargo_locked bench -q --bench materialize 2>/dev/null
echo
echo "Planning the rota (tests/bench/rota.rs):"
cargo_locked bench -q --bench rota 2>/dev/null
echo
echo "Reminders for 1,000 cohorts x 20 members: planning, a burst of 10,000 due in one minute to an SMTP sink (tests/bench/reminders.rs):"
ROUNDTABLE_BENCH_PG_URL="$(pg_create_db roundtable_bench_reminders)" cargo_locked bench -q --bench reminders 2>/dev/null
