# shellcheck shell=bash
# Sourced by .ci/run before `make test`: install PostgreSQL from Debian if it is missing,
# start a throwaway cluster on 127.0.0.1 (a temp dir, a free port, trust auth on loopback
# only), create a database and export DLTASKS_PG_URL so the PostgreSQL tests run.
# Safe under `set -euo pipefail`; runs as root (initdb then runs as the postgres user) or as
# an ordinary user.  Stop it with:  pg_ctl -D "$DLTASKS_PG_DATA" stop
_dltasks_pg_setup() {
  local bin port data log run_as=()
  if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
      echo "setup-postgres: PostgreSQL is not installed and cannot be installed here" >&2
      return 1
    fi
  fi
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  data="$(mktemp -d "${TMPDIR:-/tmp}/dltasks-pg.XXXXXX")"
  log="$data/server.log"
  if [ "$(id -u)" = "0" ]; then
    chown postgres: "$data"
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$bin/initdb" -D "$data/db" -U postgres -A trust -E UTF8 --no-sync >/dev/null
  "${run_as[@]}" "$bin/pg_ctl" -D "$data/db" -l "$log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
  "${run_as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres dltasks
  export DLTASKS_PG_DATA="$data/db"
  export DLTASKS_PG_URL="postgresql://postgres@127.0.0.1:$port/dltasks"
  echo "setup-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $DLTASKS_PG_URL"
}
_dltasks_pg_setup
unset -f _dltasks_pg_setup
