#!/usr/bin/env bash
# Writes the upgrade fixtures: the oldest migration set that shipped (the end of the first work
# session, commit 766acf1), filled through THAT version's API, dumped as SQL text.
#
#   tests/upgrade/make-fixture.sh            # writes tests/upgrade/fixtures/{sqlite,postgres}.{sql,answers.json}
#
# It builds the old commit once from `git archive` in a temporary folder, with its own target dir
# (OLD_TARGET, default /work/targets/old; deleted afterwards unless KEEP_OLD_BUILD=1), starts it
# on a fresh SQLite file and on a fresh database of a throwaway PostgreSQL cluster (tests/pg.sh),
# fills each through its API (tests/upgrade/fill.py: sign-ups, sign-ins on two devices, a sign-out,
# a magic link, a profile edit, a confirmed address, a deleted account, a password reset), records
# what it answered for reads, stops it and dumps the database:
#   SQLite: `sqlite3 FILE .dump` (python3's sqlite3 iterdump when the CLI is missing);
#   PostgreSQL: `pg_dump --inserts --no-owner` (psql-only `\restrict` lines removed).
# tests/api/upgrade.rs loads these into a fresh database, starts the current binary on it and
# reads everything back. Set CARGO_LOCK=/tmp/cargo.lock to build under a shared machine's lock.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OLD_COMMIT=${OLD_COMMIT:-766acf1}
OLD_TARGET=${OLD_TARGET:-/work/targets/old}
OUT=$ROOT/tests/upgrade/fixtures
WORK=$(mktemp -d /tmp/roundtable-upgrade.XXXXXX)
SERVER=

source "$ROOT/tests/pg.sh"
cleanup() {
  [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true
  pg_stop
  rm -rf "$WORK"
  [ "${KEEP_OLD_BUILD:-0}" = 1 ] || rm -rf "$OLD_TARGET"
}
trap cleanup EXIT

echo "==> building $OLD_COMMIT"
# The sources live under the target dir (a fixed path: a second run reuses the build).
SRC=$OLD_TARGET/src
rm -rf "$SRC" && mkdir -p "$SRC" "$OUT"
git -C "$ROOT" archive "$OLD_COMMIT" | tar -x -C "$SRC"
(cd "$SRC" && CARGO_TARGET_DIR=$OLD_TARGET ${CARGO_LOCK:+flock "$CARGO_LOCK"} cargo build -q --locked --bin roundtable)
BIN=$OLD_TARGET/debug/roundtable

# Starts the old binary on $1 (logging JSON to $WORK/$2.log) and sets SERVER and BASE.
start_old() {
  local url=$1 name=$2
  env -u ROUNDTABLE_SMTP_URL DATABASE_URL="$url" ROUNDTABLE_LOG=info ROUNDTABLE_LOG_FORMAT=json \
    ROUNDTABLE_JWT_SECRET=upgrade-fixture-secret-not-used-anywhere-else \
    ROUNDTABLE_RATE_LIMIT_IP_PER_MINUTE=100000 ROUNDTABLE_RATE_LIMIT_ACCOUNT_PER_HOUR=100000 \
    "$BIN" --bind 127.0.0.1:0 >"$WORK/$name.out" 2>"$WORK/$name.log" &
  SERVER=$!
  for _ in $(seq 100); do
    BASE=$(sed -n 's/^listening on //p' "$WORK/$name.out")
    [ -n "$BASE" ] && return 0
    sleep 0.1
  done
  echo "the old server did not start:" >&2; tail -20 "$WORK/$name.log" >&2; return 1
}

stop_old() {
  kill -TERM "$SERVER"; wait "$SERVER" || true; SERVER=
}

echo "==> SQLite"
DB=$WORK/old.db
start_old "sqlite://$DB" sqlite
python3 "$ROOT/tests/upgrade/fill.py" "$BASE" "$WORK/sqlite.log" "$OUT/sqlite.answers.json"
stop_old
if command -v sqlite3 >/dev/null; then
  sqlite3 "$DB" .dump >"$OUT/sqlite.sql"
else
  python3 -c 'import sqlite3, sys; print("\n".join(sqlite3.connect(sys.argv[1]).iterdump()))' "$DB" >"$OUT/sqlite.sql"
fi

echo "==> PostgreSQL"
pg_start
URL=$(pg_create_db roundtable_old)
start_old "$URL" postgres
python3 "$ROOT/tests/upgrade/fill.py" "$BASE" "$WORK/postgres.log" "$OUT/postgres.answers.json"
stop_old
"$PGBIN/pg_dump" --inserts --no-owner "$URL" | grep -vE '^\\(un)?restrict ' >"$OUT/postgres.sql"

echo "==> written:"
ls -l "$OUT"
