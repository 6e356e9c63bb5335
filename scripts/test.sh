#!/usr/bin/env bash
# The one test entry point (README, CI). Makes sure PostgreSQL, Redis and the S3 test server (moto) answer —
# starting or installing them when they do not — and that the console's browser test has chromium and its npm
# packages, then runs rustfmt, clippy and the whole test suite with the variables that switch on the PostgreSQL,
# Redis and S3 tests. Any service that cannot be brought up fails the run: nothing is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT=5432
REDIS_PORT=6379
S3_PORT="${PM_TEST_S3_PORT:-9000}"
export PM_TEST_DATABASE_URL="${PM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:${PG_PORT}/postgres}"
export PM_TEST_REDIS_URL="${PM_TEST_REDIS_URL:-redis://127.0.0.1:${REDIS_PORT}/}"
export PM_TEST_S3_ENDPOINT="${PM_TEST_S3_ENDPOINT:-http://127.0.0.1:${S3_PORT}}"
# Every test that needs a service must run; none may report "not run".
export PM_TEST_REQUIRE_SERVICES=1

started=$SECONDS
step() { printf '\n==> %s (%ss)\n' "$*" "$((SECONDS - started))" >&2; }
die() { printf '\ntest.sh: FAILED: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds
  local deadline=$((SECONDS + $2))
  until port_open "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

apt_install() {
  command -v apt-get >/dev/null || die "cannot install $* (no apt-get); install it and run again"
  [ "$(id -u)" -eq 0 ] || die "cannot install $* (not root); install it and run again"
  step "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

psql_ok() { command -v psql >/dev/null && psql "$PM_TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
  step "PostgreSQL on 127.0.0.1:${PG_PORT}"
  local installed=0
  if ! port_open "$PG_PORT"; then
    if ! command -v pg_ctlcluster >/dev/null; then
      apt_install postgresql
      installed=1
    fi
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start \
      || die "PostgreSQL did not start (pg_ctlcluster)"
    wait_port "$PG_PORT" 30 || die "PostgreSQL is not answering on port ${PG_PORT}"
  fi
  if ! psql_ok && [ "$installed" -eq 1 ]; then
    # A fresh Debian install refuses password-less TCP logins: give the postgres role a password for tests.
    runuser -u postgres -- psql -qc "alter user postgres password 'postgres'" >/dev/null
    export PM_TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:${PG_PORT}/postgres"
  fi
  if command -v psql >/dev/null; then
    psql_ok || die "cannot log in to PostgreSQL as ${PM_TEST_DATABASE_URL} (set PM_TEST_DATABASE_URL)"
    # Databases left by test runs that were killed before they could drop them, and the migrated templates the
    # tests copy theirs from (made again by the first test that needs them: a template of a killed run may be half
    # made).
    psql "$PM_TEST_DATABASE_URL" -Atqc "select datname from pg_database where datname like 'pm\\_t\\_%' or datname like 'pm\\_tmpl\\_%'" |
      while read -r name; do
        psql "$PM_TEST_DATABASE_URL" -qc "drop database if exists \"$name\" with (force)" >/dev/null
      done
  fi
}

ensure_redis() {
  step "Redis on 127.0.0.1:${REDIS_PORT}"
  port_open "$REDIS_PORT" && return 0
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || die "Redis did not start"
  wait_port "$REDIS_PORT" 15 || die "Redis is not answering on port ${REDIS_PORT}"
}

ensure_s3() {
  step "S3 test server (moto) on 127.0.0.1:${S3_PORT}"
  port_open "$S3_PORT" && return 0
  if ! command -v moto_server >/dev/null; then
    python3 -m pip install --quiet 'moto[server]' || die "cannot install moto[server] from PyPI"
    hash -r
  fi
  command -v moto_server >/dev/null || die "moto_server is not on PATH after installing moto[server]"
  mkdir -p target
  moto_server -H 127.0.0.1 -p "$S3_PORT" >target/moto_server.log 2>&1 &
  local moto_pid=$!
  trap 'kill '"$moto_pid"' 2>/dev/null || true' EXIT
  wait_port "$S3_PORT" 60 || die "moto_server is not answering on port ${S3_PORT} (see target/moto_server.log)"
}

# The OpenAPI 3.1 validator the HTTP tests check the served document with.
ensure_openapi_validator() {
  step "openapi-spec-validator (checks the served OpenAPI document)"
  python3 -c 'import openapi_spec_validator' 2>/dev/null && return 0
  python3 -m pip install --quiet 'openapi-spec-validator' || die "cannot install openapi-spec-validator from PyPI"
  python3 -c 'import openapi_spec_validator' || die "openapi-spec-validator does not import after installing it"
}

# The FTP and IMAP servers the import-source tests start themselves on loopback ports (they are not left running).
ensure_source_servers() {
  step "vsftpd and dovecot (started by the import-source tests)"
  local missing=()
  [ -x /usr/sbin/vsftpd ] || missing+=(vsftpd)
  [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
  # The tests run their own instances on free ports, whether or not the packages also started system services.
  [ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"
  [ -x /usr/sbin/vsftpd ] || die "vsftpd is not installed"
  [ -x /usr/sbin/dovecot ] || die "dovecot is not installed"
  id ftp >/dev/null 2>&1 || die "the ftp system account (from the vsftpd package) is missing"
}

# promtool (Debian's prometheus package) checks deploy/prometheus/alerts.yml in the HTTP tests.
ensure_promtool() {
  step "promtool (checks the alert rules)"
  command -v promtool >/dev/null && return 0
  apt_install prometheus
  command -v promtool >/dev/null || die "promtool is not installed (Debian package prometheus)"
}

# The web console's browser test: Debian's chromium (never a downloaded browser) and playwright-core, with htmx
# (the vendored copy is checked against the npm package), installed from e2e/package-lock.json.
ensure_browser() {
  step "chromium and the console's browser test (e2e/)"
  [ -x /usr/bin/chromium ] || apt_install chromium
  [ -x /usr/bin/chromium ] || die "chromium is not installed"
  command -v node >/dev/null || apt_install nodejs npm
  command -v npm >/dev/null || die "npm is not installed"
  # npm ci again only when the lock file changed since the last install.
  if [ ! -f e2e/node_modules/.package-lock.json ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
    (cd e2e && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in e2e/ failed"
  fi
  [ -d e2e/node_modules/playwright-core ] || die "playwright-core is missing from e2e/node_modules"
}

# Keys the test suite left in Redis (every test uses its own `pm_t_<random>_` namespace; entries also expire).
clean_redis() {
  command -v redis-cli >/dev/null || return 0
  redis-cli -p "$REDIS_PORT" --scan --pattern 'pm_t_*' | xargs -r -d '\n' -n 500 redis-cli -p "$REDIS_PORT" del >/dev/null
}

ensure_postgres
ensure_redis
ensure_s3
ensure_openapi_validator
ensure_source_servers
ensure_promtool
ensure_browser
clean_redis

# A full debug build and its test binaries need a few GB; a full disk shows up as a linker crash (SIGBUS), so say so.
free_mib=$(df -Pm . | awk 'NR == 2 { print $4 }')
step "disk: ${free_mib} MiB free here"
[ "${free_mib:-0}" -ge 3072 ] || printf 'test.sh: WARNING: only %s MiB free; the build may fail for want of disk\n' "$free_mib" >&2

step "cargo fmt --check"
cargo fmt --all --check

# One compilation serves clippy and the tests: clippy-driver (the compiler clippy runs as) builds the workspace's
# crates for real, linting as it goes, with warnings denied; `cargo clippy` and then `cargo test` compiled every
# dependency twice (a check build, then a real one). Built in codegen mode clippy also sees through inlined code of
# dependencies, so it can find a little more than `cargo clippy` does.
# A build from nothing (CI's clean clone) skips incremental compilation, which only pays off when rebuilding;
# a target folder built incrementally before stays so.
[ -d target/debug/incremental ] || export CARGO_INCREMENTAL=0
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver || true)"
[ -x "$RUSTC_WORKSPACE_WRAPPER" ] || die "clippy-driver not found (rustup component add clippy)"
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS='-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__'

step "clippy -D warnings and the test build (cargo test --workspace --all-targets --no-run)"
cargo test --workspace --all-targets --no-run

# cargo-nextest runs the tests of every binary side by side (cargo test runs the binaries one after another, two
# tests at a time): most tests wait on a database, a server or a subprocess. Settings in .config/nextest.toml.
if ! cargo nextest --version >/dev/null 2>&1; then
  step "installing cargo-nextest"
  cargo install --locked cargo-nextest || die "cannot install cargo-nextest (cargo install --locked cargo-nextest)"
fi

step "cargo nextest run --workspace"
cargo nextest run --workspace

step "doc tests (cargo test --workspace --doc)"
cargo test --workspace --doc

step "example: embed_minimal"
cargo build --quiet --workspace --examples
./target/debug/examples/embed_minimal

clean_redis

step "all checks passed"
