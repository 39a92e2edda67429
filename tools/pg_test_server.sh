#!/bin/sh
# Start (once) a throw-away PostgreSQL server for the store tests and print its SQLAlchemy URL.
#
#   POSTURE_TEST_PG_URL=$(tools/pg_test_server.sh) .venv/bin/python -m pytest
#
# * Already set POSTURE_TEST_PG_URL: printed as it is (use your own server).
# * Otherwise a private cluster in $POSTURE_PG_TEST_DIR (default /tmp/posture-pg-test-UID), listening on
#   127.0.0.1 ONLY (no other address, unix socket inside that directory), on a free port chosen at
#   initdb time, with its own role and database (password auth; the role may CREATE DATABASE so
#   that each pytest run works in a database of its own). Quick and idempotent: a running
#   server is reused, a stopped one restarted.
# * As root, PostgreSQL is installed with apt-get when missing and the cluster runs as the
#   "postgres" user; as another user the cluster runs as that user if PostgreSQL is installed.
# * When none of that is possible, ONE line on stderr says the PostgreSQL tests will be skipped,
#   nothing is printed on stdout and the exit status is 0 (POSTURE_TEST_PG_REQUIRED=1: status 1).
set -u

if [ -n "${POSTURE_TEST_PG_URL:-}" ]; then
    printf '%s\n' "$POSTURE_TEST_PG_URL"
    exit 0
fi

BASE=${POSTURE_PG_TEST_DIR:-/tmp/posture-pg-test-$(id -u)}
DATA=$BASE/data
STATE=$BASE/url
DB=posture_test
ROLE=posture_test

skip() {
    echo "PostgreSQL test server: $1 - the PostgreSQL store tests will be skipped" >&2
    [ "${POSTURE_TEST_PG_REQUIRED:-}" = 1 ] && exit 1
    exit 0
}

pg_bindir() {
    # the newest installed server version
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"; return 0
    fi
    return 1
}

BIN=$(pg_bindir)
if [ -z "$BIN" ]; then
    if [ "$(id -u)" != 0 ]; then skip "PostgreSQL is not installed and installing it needs root"; fi
    command -v apt-get >/dev/null 2>&1 || skip "PostgreSQL is not installed and apt-get is unavailable"
    echo "PostgreSQL test server: installing postgresql with apt-get ..." >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } \
            >/dev/null 2>&1; then
        skip "apt-get install postgresql failed"
    fi
    # Debian's package may start its default cluster (listening on "localhost"): stop what the
    # install just started; the tests use the private cluster below.
    if command -v pg_lsclusters >/dev/null 2>&1; then
        pg_lsclusters -h 2>/dev/null | while read -r ver name port status _rest; do
            case $status in online*) pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true ;; esac
        done
    fi
    BIN=$(pg_bindir) || skip "no initdb/pg_ctl after installing postgresql"
fi

# who runs the server: never root
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || skip "no 'postgres' user to run the server as"
    OWNER=postgres
    if command -v runuser >/dev/null 2>&1; then
        as_owner() { runuser -u postgres -- "$@"; }
    else
        as_owner() { su postgres -s /bin/sh -c '"$0" "$@"' -- "$@"; }
    fi
else
    OWNER=$(id -un)
    as_owner() { "$@"; }
fi

running() {
    [ -f "$STATE" ] && [ -f "$DATA/PG_VERSION" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start() {
    port=$(sed -n 's/^port=//p' "$BASE/conf" 2>/dev/null)
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$BASE/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $BASE" start >/dev/null 2>&1
}

if running; then
    cat "$STATE"
    exit 0
fi

if [ -f "$DATA/PG_VERSION" ] && [ -f "$STATE" ] && [ -f "$BASE/conf" ]; then
    if start; then cat "$STATE"; exit 0; fi
    echo "PostgreSQL test server: the old cluster in $BASE did not start; making a new one" >&2
    as_owner "$BIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1
fi

# a new cluster
rm -rf "$BASE"
mkdir -p "$BASE" || skip "cannot create $BASE"
chmod 700 "$BASE"
chown "$OWNER" "$BASE" 2>/dev/null
command -v python3 >/dev/null 2>&1 || skip "python3 is needed to pick a free port"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') \
    || skip "no free port on 127.0.0.1"
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
printf 'port=%s\n' "$PORT" > "$BASE/conf"
as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$BASE/initdb.log" 2>&1 \
    || as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C >"$BASE/initdb.log" 2>&1 \
    || skip "initdb failed (see $BASE/initdb.log)"
# only the loopback address, ever (also written to the config, not just the command line)
printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n" "$PORT" "$BASE" \
    | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
start || skip "the server did not start (see $BASE/server.log)"
as_owner "$BIN/psql" -h "$BASE" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >/dev/null 2>&1 <<SQL \
    || skip "could not create the test role and database"
CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
CREATE DATABASE $DB OWNER $ROLE;
SQL
# lets the tests flush pages to disk before searching the table files for deleted bytes (PG >= 15)
as_owner "$BIN/psql" -h "$BASE" -p "$PORT" -U postgres -d postgres -q \
    -c "GRANT pg_checkpoint TO $ROLE" >/dev/null 2>&1 || true
URL="postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
umask 077
printf '%s\n' "$URL" > "$STATE"
cat "$STATE"
