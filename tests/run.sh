#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds once, runs unit and
# HTTP tests on SQLite, starts a throwaway PostgreSQL cluster, runs the HTTP tests again on it,
# stops what it started, and ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=0 CARGO_TERM_COLOR=never NEXTEST_HIDE_PROGRESS_BAR=1
LOGS=$(mktemp -d /tmp/roundtable-tests.XXXXXX)
passed=0
failed=0
broken=0

say() { printf '\n==> %s\n' "$*"; }

need_apt=()
NEED_NEXTEST=0
command -v cargo-nextest >/dev/null 2>&1 || cargo nextest --version >/dev/null 2>&1 || NEED_NEXTEST=1
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need_apt+=(postgresql)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -e /usr/include/postgresql/libpq-fe.h ] || need_apt+=(libpq-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if [ "$NEED_NEXTEST" = 1 ]; then
  say "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

# Adds the counts from a nextest run's summary line to the totals.
count() {
  local log=$1 summary p f t
  summary=$(grep -E '^ *Summary ' "$log" | tail -1)
  if [ -z "$summary" ]; then
    echo "no test summary in $log (build or run error)"; broken=1; return
  fi
  p=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$summary"); f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$summary")
  t=$(sed -nE 's/.* ([0-9]+) timed out.*/\1/p' <<<"$summary")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${t:-0}))
}

say "building"
if ! cargo nextest run --no-run 2>&1 | tail -3; then broken=1; fi

# Two checks that count as one test each: the code is formatted, and clippy finds nothing.
lint() {
  local name=$1; shift
  if "$@" > "$LOGS/$name.log" 2>&1; then passed=$((passed + 1)); echo "$name: ok"
  else failed=$((failed + 1)); echo "FAIL $name: see $LOGS/$name.log"; tail -20 "$LOGS/$name.log"; fi
}
say "formatting and lints"
lint fmt cargo fmt --check
lint clippy cargo clippy --all-targets -- -D warnings

say "unit, property and HTTP tests on SQLite"
cargo nextest run 2>&1 | tee "$LOGS/sqlite.log" | grep -E '^ *(FAIL|TIMEOUT|Summary)|panicked|^error' ; count "$LOGS/sqlite.log"

say "doctests (the id types' compile_fail guarantees)"
cargo test --doc > "$LOGS/doc.log" 2>&1
doc=$(grep -E '^test result: ' "$LOGS/doc.log" | tail -1)
if [ -n "$doc" ]; then
  echo "doctests: $doc"
  p=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$doc"); f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$doc")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
else
  echo "the doctests did not run: see $LOGS/doc.log"; tail -5 "$LOGS/doc.log"; broken=1
fi

say "a cohort end to end against the binary (tests/e2e/story.py)"
if timeout 180 python3 tests/e2e/story.py target/debug/roundtable > "$LOGS/story.log" 2>&1; then :; fi
grep -E '^FAIL' "$LOGS/story.log"
story=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOGS/story.log" | tail -1)
if [ -n "$story" ]; then
  echo "story: $story"
  passed=$((passed + ${story%% passed*})); f=${story#*, }; failed=$((failed + ${f%% failed*}))
else
  echo "the story did not finish: see $LOGS/story.log"; tail -5 "$LOGS/story.log"; broken=1
fi

# The phone app in the machine's Chromium (pwa/tests, Playwright): a Pixel 7 and a desktop profile
# against the debug binary; the JSON report's counts join the totals. `npm run check` type-checks
# the app against the committed OpenAPI document and the tests themselves (one test).
browser() {
  local name=$1; shift
  rm -f pwa/test-results/results.json
  (cd pwa && env PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 ROUNDTABLE_BIN=../target/debug/roundtable "$@" \
     timeout 1200 npx playwright test) > "$LOGS/$name.log" 2>&1
  grep -E '✘|[0-9]+ (passed|failed|flaky)' "$LOGS/$name.log"
  if [ -s pwa/test-results/results.json ]; then
    read -r p f < <(node -e 'const s=require("./pwa/test-results/results.json").stats; console.log(s.expected, s.unexpected + s.flaky)')
    passed=$((passed + p)); failed=$((failed + f))
  else
    echo "the browser tests did not run: see $LOGS/$name.log"; tail -20 "$LOGS/$name.log"; broken=1
  fi
}
say "the phone app: type check and browser tests on SQLite"
[ -d pwa/node_modules ] || (cd pwa && npm ci --no-audit --no-fund >/dev/null 2>&1)
lint app-types bash -c 'cd pwa && npm run -s types && npm run -s check'
(cd pwa && timeout 300 npx vitest run --reporter=json --outputFile=test-results/unit.json) > "$LOGS/app-unit.log" 2>&1
if [ -s pwa/test-results/unit.json ]; then
  read -r p f < <(node -e 'const s=require("./pwa/test-results/unit.json"); console.log(s.numPassedTests, s.numFailedTests)')
  echo "app unit tests: $p passed, $f failed"; passed=$((passed + p)); failed=$((failed + f))
else
  echo "the app's unit tests did not run: see $LOGS/app-unit.log"; tail -10 "$LOGS/app-unit.log"; broken=1
fi
browser browser-sqlite

source tests/pg.sh
trap pg_stop EXIT
if pg_start; then
  say "HTTP tests on PostgreSQL (127.0.0.1:$PGPORT)"
  ROUNDTABLE_TEST_PG_URL="$PG_ADMIN_URL" \
    cargo nextest run -E 'kind(test)' 2>&1 | tee "$LOGS/postgres.log" | grep -E '^ *(FAIL|TIMEOUT|Summary)|panicked|^error'
  count "$LOGS/postgres.log"
  say "the phone app's browser tests on PostgreSQL"
  psql -q "$PG_ADMIN_URL" -c 'CREATE DATABASE roundtable_e2e' >/dev/null
  browser browser-postgres ROUNDTABLE_E2E_DATABASE_URL="${PG_ADMIN_URL%/*}/roundtable_e2e"
else
  echo "PostgreSQL did not start"; broken=1
fi

echo
echo "logs: $LOGS"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$broken" -eq 0 ]
