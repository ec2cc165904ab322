# Sourced: `headless CMD…` runs CMD on a private Xvfb display inside its own
# session bus with an unlocked Secret Service (gnome-keyring), as a phone
# would have a keystore. Nothing outlives it.
headless() {
  local fifo dir display xvfb_pid status=0
  dir=$(mktemp -d)
  fifo="$dir/display"
  mkfifo "$fifo"
  Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$fifo" >/dev/null 2>&1 &
  xvfb_pid=$!
  read -r display <"$fifo"
  # A private keyring directory per run: no state leaks between runs.
  mkdir -p "$dir/data"
  DISPLAY=":$display" XDG_DATA_HOME="$dir/data" dbus-run-session -- sh -c '
    echo -n legitka | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
    exec "$@"' sh "$@" || status=$?
  kill "$xvfb_pid" 2>/dev/null || true
  wait "$xvfb_pid" 2>/dev/null || true
  rm -rf "$dir"
  return $status
}
