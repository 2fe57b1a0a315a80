# Sourced by scripts/test: make sure Debian's PostgreSQL server binaries are installed, so the
# store tests can start a throw-away server of their own (tests/conftest.py: initdb + pg_ctl on a
# free loopback port). Nothing is started here, and no system cluster is used.
ensure_postgres() {
    if [ -n "${PRODREADY_TEST_PG_URL:-}" ]; then return; fi  # the tests use that server instead
    if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then return; fi
    echo "Installing Debian's postgresql for the store tests..."
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    # policy-rc.d-less containers may try to start the packaged cluster; that is harmless.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
}
