# Throwaway PostgreSQL cluster on a free loopback port, for tests and load runs.
# Usage: source tests/pg.sh; pg_start && trap pg_stop EXIT  -> sets PGPORT, PG_ADMIN_URL
# initdb refuses to run as root, so the cluster runs as the postgres user.

pg_start() {
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$PGBIN" ] || { echo "PostgreSQL is not installed" >&2; return 1; }
  PGTMP=$(mktemp -d /tmp/roundtable-pg.XXXXXX)
  chown postgres:postgres "$PGTMP"
  PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if ! runuser -u postgres -- "$PGBIN/initdb" -D "$PGTMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
         --no-sync >"$PGTMP/initdb.log" 2>&1; then
    cat "$PGTMP/initdb.log" >&2; return 1
  fi
  # fsync off: a test cluster trades durability for speed; it is deleted afterwards anyway.
  if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/pg.log" -w -t 30 \
         -o "-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
         start >/dev/null; then
    cat "$PGTMP/pg.log" >&2; return 1
  fi
  PG_ADMIN_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
  export PGPORT PG_ADMIN_URL
}

# Creates a database in the cluster and prints its URL.
pg_create_db() {
  "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres "$1" && echo "postgres://postgres@127.0.0.1:$PGPORT/$1"
}

pg_stop() {
  [ -n "${PGTMP:-}" ] || return 0
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$PGTMP"
  unset PGTMP
}
