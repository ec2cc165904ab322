# Sourced by the scripts: one place for paths and tool locations.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/legitka/target}"
# Incremental caches grow by gigabytes per build on a shared disk and help
# little to a script's run: off unless asked for.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Android compile check (ring needs libc headers from the arm64 cross sysroot).
export CC_aarch64_linux_android=clang
export AR_aarch64_linux_android=llvm-ar
export CFLAGS_aarch64_linux_android="--sysroot=/usr/aarch64-linux-gnu"
export NO_AT_BRIDGE=1
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
