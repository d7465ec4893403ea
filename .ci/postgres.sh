#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 server on a free loopback port; print its URL on stdout.
#
#   url=$(.ci/postgres.sh)            # start (installs Debian's postgresql if missing)
#   .ci/postgres.sh stop "$url"       # stop it and remove its folder
#
# The cluster lives in a fresh temporary folder, trusts local connections only (it
# listens on 127.0.0.1 and a socket in that folder) and runs as the `postgres` user
# when called as root (PostgreSQL refuses to run as root).
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = stop ]; then
  port=$(printf '%s' "${2:?usage: $0 stop URL}" | sed -E 's#.*:([0-9]+)/.*#\1#')
  dir=${TMPDIR:-/tmp}/eeg-explorer-postgres-$port
  as_postgres "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  rm -rf "$dir"
  exit 0
fi

if [ ! -x "$BIN/initdb" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=${TMPDIR:-/tmp}/eeg-explorer-postgres-$port
mkdir -p "$dir"
if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
as_postgres "$BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log"
as_postgres "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200" \
  start >/dev/null
echo "postgresql://postgres@127.0.0.1:$port/postgres"
