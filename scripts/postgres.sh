# Sourced: `start_postgres` starts Debian's PostgreSQL cluster on loopback
# (no systemd here), makes sure the test role exists, drops databases left
# by earlier test runs, and exports LEGITKA_TEST_PG.
start_postgres() {
  local ver
  ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main"' | grep -q .; then
    $SUDO pg_createcluster "$ver" main >/dev/null
  fi
  if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  fi
  # From /: the postgres user may not enter the caller's directory.
  local psql=(env -C / su postgres -c)
  [ "$(id -u)" -eq 0 ] || psql=(env -C / sudo -u postgres sh -c)
  "${psql[@]}" "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'legitka'\"" | grep -q 1 \
    || "${psql[@]}" "psql -qc \"CREATE ROLE legitka LOGIN CREATEDB PASSWORD 'legitka'\""
  "${psql[@]}" "psql -qtAc \"SELECT datname FROM pg_database WHERE datname LIKE 'legitka_test_%'\"" |
    while read -r db; do [ -n "$db" ] && "${psql[@]}" "psql -qc 'DROP DATABASE \"$db\"'"; done
  export LEGITKA_TEST_PG="postgres://legitka:legitka@127.0.0.1:5432/postgres"
  export LEGITKA_REQUIRE_PG=1
}
