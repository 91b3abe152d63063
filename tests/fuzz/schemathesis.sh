#!/usr/bin/env bash
# Property-based fuzzing of every operation in the served OpenAPI document with schemathesis,
# checking that no generated request gets a 5xx. Not part of CI (it takes minutes and installs a
# Python tool); run it by hand: tests/fuzz/schemathesis.sh [EXAMPLES_PER_OPERATION]
set -euo pipefail
cd "$(dirname "$0")/../.."
EXAMPLES=${1:-25}
WORK=$(mktemp -d /tmp/roundtable-fuzz.XXXXXX)
[ -x /tmp/roundtable-fuzz-venv/bin/schemathesis ] || { python3 -m venv /tmp/roundtable-fuzz-venv && /tmp/roundtable-fuzz-venv/bin/pip install -q schemathesis; }
cargo build -q
ROUNDTABLE_RATE_LIMIT_IP_PER_MINUTE=1000000 ROUNDTABLE_RATE_LIMIT_ACCOUNT_PER_HOUR=1000000 ROUNDTABLE_LOG=error \
  target/debug/roundtable --bind 127.0.0.1:0 --database-url "$WORK/fuzz.db" >"$WORK/out" 2>"$WORK/err" &
server=$!
trap 'kill $server 2>/dev/null; echo "server log: $WORK/err"' EXIT
for _ in $(seq 1 50); do grep -q '^listening on ' "$WORK/out" && break; sleep 0.1; done
BASE=$(sed -n 's/^listening on //p' "$WORK/out")
curl -fs -o /dev/null -H 'content-type: application/json' "$BASE/api/v1/auth/signup" \
  -d '{"email":"fuzz@example.com","password":"correct horse battery","display_name":"Fuzz","time_zone":"UTC"}'
TOKEN=$(curl -fs -H 'content-type: application/json' "$BASE/api/v1/auth/login" \
  -d '{"email":"fuzz@example.com","password":"correct horse battery"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# Routes that end the fuzzing user's own sign-in are left out, or everything after them is a 401.
/tmp/roundtable-fuzz-venv/bin/schemathesis run "$BASE/api/openapi.json" --checks not_a_server_error \
  -H "Authorization: Bearer $TOKEN" --max-examples "$EXAMPLES" --seed 1 --workers 1 \
  --exclude-path /api/v1/me --exclude-path /api/v1/me/password --exclude-path '/api/v1/me/sign-ins/{sign_in_id}'
