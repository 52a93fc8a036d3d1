#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL cluster for the tests and for trying the project by hand.
#   scripts/postgres.sh start [DIR]   init DIR if needed, start it on a free 127.0.0.1 port, print the
#                                     connection string (only that goes to stdout, progress to stderr)
#   scripts/postgres.sh url [DIR]     print the connection string of the cluster running from DIR
#   scripts/postgres.sh stop [DIR]    stop it (quiet when nothing runs)
# DIR defaults to $PWD/data/postgres. The connection string is in Npgsql form:
#   Host=127.0.0.1;Port=PORT;Username=postgres;Database=postgres
# Trust authentication is used: the server listens on 127.0.0.1 only and its unix socket lives inside
# DIR, so only this machine can reach it. It is for tests, not for production data.
# PostgreSQL refuses to run as root, so when run as root the server runs as the `postgres` OS user
# (DIR is then owned by it and must be reachable by it; /tmp is, /root is not).
# Set PG_BIN to choose the folder holding initdb/pg_ctl; by default the newest Debian one is used.
set -euo pipefail

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
command="$1"
case "$command" in start | stop | url) ;; *) usage ;; esac
dir="${2:-$PWD/data/postgres}"
# Absolute, because the server, pg_ctl and the socket option all see it from other working folders.
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
dir="${dir%/}"

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# Debian installs the server outside PATH, under /usr/lib/postgresql/VERSION/bin.
if [ -z "${PG_BIN:-}" ]; then
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$PG_BIN" ] && command -v pg_ctl >/dev/null 2>&1; then
    PG_BIN="$(dirname "$(command -v pg_ctl)")"
  fi
fi
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/initdb" ] \
  || die "PostgreSQL server programs not found (install the Debian package postgresql, or set PG_BIN)"

# Runs a PostgreSQL program as the user the server must run as. From / so that a working folder the
# postgres user cannot enter (e.g. /root) does not produce warnings.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs the postgres OS user (install the postgresql package)"
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  as_pg() { "$@"; }
fi

url_for() { echo "Host=127.0.0.1;Port=$1;Username=postgres;Database=postgres"; }

running() { [ -f "$dir/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; }

print_url() {
  local port
  port="$(cat "$dir/port" 2>/dev/null || true)"
  [ -n "$port" ] || die "$dir/port is missing; stop and start the cluster again"
  url_for "$port"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nothing listens on. Asking the kernel (bind to port 0) avoids clashing with parallel runs
# best; without a working python3, probe a fixed range instead.
free_port() {
  local port
  if command -v python3 >/dev/null 2>&1 \
    && port="$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null)" && [ -n "$port" ]; then
    echo "$port"
    return
  fi
  for port in $(seq 54320 54400); do
    port_in_use "$port" || { echo "$port"; return; }
  done
  die "no free port in 54320..54400"
}

start() {
  if running; then
    print_url
    return
  fi

  local created=""
  [ -e "$dir" ] || created=1
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$dir"
    chmod 700 "$dir"
    if ! as_pg test -w "$dir" -a -x "$dir"; then
      [ -z "$created" ] || rmdir "$dir"
      die "the postgres user cannot reach $dir (a parent folder is closed to it); use a folder under /tmp, e.g. scripts/postgres.sh start /tmp/videoencode-postgres"
    fi
  fi

  # The server creates its socket at DIR/.s.PGSQL.PORT and refuses paths longer than 107 bytes;
  # pg_ctl hands the options to a shell, where DIR sits in single quotes.
  [ "${#dir}" -le 90 ] || die "$dir is too long for the server's unix socket path; use a shorter folder"
  case "$dir" in *"'"*) die "$dir contains a single quote; use another folder" ;; esac

  if [ ! -f "$dir/PG_VERSION" ]; then
    say "initializing a cluster in $dir"
    local locale=(--no-locale)
    if locale -a 2>/dev/null | grep -qix 'C.utf-\{0,1\}8'; then locale=(--locale=C.UTF-8); fi
    as_pg "$PG_BIN/initdb" -D "$dir" -A trust -U postgres --no-sync -E UTF8 "${locale[@]}" >/dev/null
    # A queue holds many short connections (every API and worker process keeps a pool), and must not
    # lose an acknowledged job: keep commits durable even though this cluster is throwaway.
    cat >>"$dir/postgresql.conf" <<'EOF'

# scripts/postgres.sh
max_connections = 200
shared_buffers = 128MB
synchronous_commit = on
fsync = on
EOF
  fi

  # Another process can take the chosen port before the server binds it; then try another one.
  local port attempt log_lines
  for attempt in 1 2 3 4 5; do
    if [ "$attempt" -eq 1 ] && [ -s "$dir/port" ] && ! port_in_use "$(cat "$dir/port")"; then
      port="$(cat "$dir/port")" # same port as last time, so a saved connection string keeps working
    else
      port="$(free_port)"
    fi
    log_lines=0
    [ ! -f "$dir/server.log" ] || log_lines="$(wc -l <"$dir/server.log")"
    say "starting PostgreSQL on 127.0.0.1:$port"
    if as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c fsync=on" start >&2; then
      echo "$port" >"$dir/port"
      url_for "$port"
      return
    fi
    tail -n +"$((log_lines + 1))" "$dir/server.log" | grep -q 'Address already in use' || break
  done
  tail -n 20 "$dir/server.log" >&2 || true
  die "PostgreSQL did not start; see $dir/server.log"
}

stop() {
  running || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >&2
}

url() {
  running || die "no PostgreSQL cluster runs from $dir (scripts/postgres.sh start $dir)"
  print_url
}

"$command"
