# Idempotent set-up shared by scripts/run and scripts/test (sourced, not executed).
# Installs only what is missing: wasm32 target, Debian chromium + binaryen, pinned
# cargo-leptos and wasm-bindgen-cli, and the npm packages of style/ and end2end/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10"
# Must equal the wasm-bindgen crate pinned in Cargo.toml.
WASM_BINDGEN_VERSION="0.2.130"

# Build outside the clone so that fresh clones reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/voxgate/target}"
export PATH="$HOME/.cargo/bin:$REPO/style/node_modules/.bin:$PATH"
# cargo-leptos compiles this into leptos; cargo test must see the same value or it rebuilds leptos.
export LEPTOS_OUTPUT_NAME="voxgate"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_rust_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_debian_packages() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v wasm-opt >/dev/null || missing+=(binaryen)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
  fi
}

ensure_cargo_tool() { # crate version command [extra cargo install args...]
  local crate="$1" version="$2" probe="$3"; shift 3
  if ! $probe --version 2>/dev/null | grep -q " $version"; then
    say "installing $crate $version (first run only; about 20 minutes on 2 cores)"
    # No LTO and parallel codegen: the tool runs rarely, its build time matters more.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      CARGO_TARGET_DIR="$HOME/.cache/voxgate/tools" \
      cargo install "$crate@$version" "$@"
  fi
}

ensure_npm() { # dir
  local dir="$REPO/$1" stamp="$REPO/$1/node_modules/.voxgate-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    say "installing npm packages in $1/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
}

setup() {
  ensure_rust_target
  ensure_debian_packages
  ensure_cargo_tool cargo-leptos "$CARGO_LEPTOS_VERSION" "cargo leptos" --locked --features no_downloads
  # Its lock file pins a crate this registry no longer serves, so no --locked here.
  ensure_cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
  ensure_npm style
  ensure_npm end2end
}

build() {
  say "building Voxgate (debug; warm builds take seconds)"
  (cd "$REPO" && cargo leptos build)
}
