#!/usr/bin/env bash
# Installs what `cargo xtask test` needs on a fresh Debian 12 (bookworm) machine, as root.
# Idempotent: anything already present is skipped, so a second run takes about a second.
# Used by .ci/run; developers run it once: `bash scripts/install-test-deps.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."  # the repository root, so rustup sees any rust-toolchain.toml

# cargo-fuzz for `cargo xtask fuzz-replay` (checked with `cargo info cargo-fuzz`, 2026-11-25).
CARGO_FUZZ_VERSION=0.13.2
# wasm-bindgen CLI for `cargo xtask dist`: must equal the `wasm-bindgen = "=x.y.z"` pin in
# web/Cargo.toml (read from there, so the two cannot drift).
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' web/Cargo.toml)

# Debian packages, installed only when missing. Never list a package that is already
# installed: `apt-get install` would upgrade it (gotcha G1 in shared/peers/README.md).
APT_PACKAGES=(
  # TigerVNC Xvnc, the real VNC server the integration tests talk to, and vncpasswd.
  tigervnc-standalone-server tigervnc-tools
  # A desktop to draw on: fonts (needed before Xvnc starts, gotcha G8), xsetroot/xrandr,
  # xclock/xwd, xterm.
  xfonts-base x11-xserver-utils x11-apps xterm
  # Moving windows for CopyRect tests (xdotool), xwininfo/xprop (x11-utils).
  xdotool x11-utils
  # xkbbell rings the X bell for the Bell test (cli/tests/continuous.rs).
  x11-xkb-utils
  # x11vnc on a virtual X server: the second real VNC server of the encoding tests
  # (cli/tests/encodings.rs), which speaks CoRRE, Zlib and ZYWRLE that Xvnc lacks.
  x11vnc xvfb
  # The proxy's peers (issue 5): Redis for shared tokens, Chromium for noVNC in a browser,
  # python3-venv for the pip tools below.
  redis-server redis-tools chromium chromium-driver python3-venv
  # rfb-keysym (issue 6): keysymdef.h and XF86keysym.h, the source of the committed keysym
  # tables; `cargo xtask gen-keysyms --check` regenerates from them to prove they are current.
  x11proto-dev
  # Clipboard tests (issue 7): xclip sets and reads the X CLIPBOARD/PRIMARY selections.
  xclip
  # Tight security (issue 11, cli/tests/tight.rs): TightVNC's Xtightvnc offers type 16.
  tightvncserver
  # The CLI's default `anon-tls` feature (VeNCrypt TLSNone/TLSVnc/TLSPlain) links OpenSSL.
  libssl-dev pkg-config
  # C and Python bindings (issue 10): the C examples run under valgrind in bindings/c/tests.
  valgrind
  # The openssl command makes test certificates (bindings/python/tests/test_security.py,
  # cli/tests/vencrypt_peers.rs: RSA for x11vnc -ssl, the file names QEMU's tls-creds want).
  openssl
  # --- Later issues: add packages from the default bookworm suite here, one commented group
  # --- per issue. Packages from another suite (QEMU from bookworm-backports, gotcha G1) and
  # --- pip/npm/cargo tools get their own timed step below instead.
)

# Wall time of each step, printed as it ends and again in the summary.
SUMMARY=()
step() {
  local name=$1 start end took
  shift
  echo "--> $name"
  start=$EPOCHREALTIME
  "$@"
  end=$EPOCHREALTIME
  took=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  echo "<-- $name: ${took} s"
  SUMMARY+=("$(printf '  %-28s %7s s' "$name" "$took")")
}

apt_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "all ${#APT_PACKAGES[@]} apt packages are installed"
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing apt packages (${missing[*]}); run this script as root" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# QEMU 10 from bookworm-backports: the third VNC server of the encoding tests (TightPNG).
# bookworm's own qemu-system-x86 7.2 would REMOVE the machine's preinstalled qemu-utils 10.0.2
# (gotcha G1), so the backports suite is added on the machine's own mirror and the package is
# taken from it explicitly. Installed only when missing.
qemu_backports() {
  if dpkg -s qemu-system-x86 2>/dev/null | grep -q '^Status: install ok installed'; then
    echo "qemu-system-x86 is installed: $(dpkg-query -W -f='${Version}' qemu-system-x86)"
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: qemu-system-x86 is missing; run this script as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local list=/etc/apt/sources.list.d/bookworm-backports.sources mirror
  if [ ! -f "$list" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" > "$list"
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86
}

rust_components() {
  if ! command -v rustup >/dev/null; then
    echo "error: rustup is not installed; it comes with the machine image" >&2
    exit 1
  fi
  # Formatting and linting are steps of `cargo xtask test`; this adds them to the toolchain
  # the repository uses (stable today: there is no rust-toolchain.toml).
  rustup component add rustfmt clippy
  # Core crates are checked to build for the browser (`cargo xtask test`, step wasm-core).
  rustup target add wasm32-unknown-unknown
}

nightly_toolchain() {
  # cargo-fuzz needs nightly (sanitizers); minimal profile keeps the download small.
  if rustup toolchain list | grep -q '^nightly-'; then
    echo "nightly is installed: $(rustc +nightly --version)"
  else
    rustup toolchain install nightly --profile minimal
  fi
}

cargo_fuzz() {
  local bin=${CARGO_HOME:-$HOME/.cargo}/bin/cargo-fuzz have=""
  if [ -x "$bin" ]; then
    have=$("$bin" --version 2>/dev/null || true)
  fi
  if [ "$have" = "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    echo "$have is installed"
    return
  fi
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION (found: ${have:-none}); about a minute on 2 cores"
  # --locked works with this registry mirror (tested with 0.13.2).
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
}

wasm_bindgen_cli() {
  local bin=${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen have=""
  if [ -x "$bin" ]; then
    have=$("$bin" --version 2>/dev/null || true)
  fi
  if [ "$have" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    echo "$have is installed"
    return
  fi
  echo "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (found: ${have:-none}); about 2 minutes on 2 cores"
  # Not --locked: the mirror lacks the exact webpki-roots its lockfile wants (peers gotcha G12).
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
}

# Third-party clients and proxies the tests drive, in target/peers (ignored by git, kept with
# the build cache): a Python venv (websockify as pip installs it with numpy, the websockets
# client, vncdotool, jwcrypto for JWT tokens we did not mint) and node packages (npm noVNC
# core, playwright-core for Chromium). rfb_testkit::peer::{venv_bin, node_dir} find them.
PEERS_DIR=target/peers
# maturin and pytest (issue 10): `cargo xtask test` step "bindings" pip-installs
# ./bindings/python into this venv with maturin (no build isolation, so no download) and runs
# its pytest suite; numpy and Pillow (from vncdotool) check the zero-copy screenshot view.
# cryptography (issue 11): the scripted security servers (crates/rfb-testkit/scripted) for
# ARD, MSLogonII, xvp, Plain, Tight and RA2ne: DH/AES/DES/RSA/CMAC from a maintained library.
PIP_PACKAGES=(websockify numpy websockets vncdotool jwcrypto redis maturin pytest cryptography)
NPM_PACKAGES=(@novnc/novnc playwright-core)

python_tools() {
  local venv=$PEERS_DIR/venv
  if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$PEERS_DIR"
    # The machine's CPython (pyenv); its venv module is in the standard library.
    python3 -m venv "$venv"
  fi
  local missing=() p
  for p in "${PIP_PACKAGES[@]}"; do
    "$venv/bin/python" -m pip show -q "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "pip packages installed: ${PIP_PACKAGES[*]}"
    return
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${missing[@]}"
}

node_tools() {
  local dir=$PEERS_DIR/node
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || (cd "$dir" && npm init -y >/dev/null)
  local missing=() p
  for p in "${NPM_PACKAGES[@]}"; do
    [ -d "$dir/node_modules/$p" ] || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "npm packages installed: ${NPM_PACKAGES[*]}"
    return
  fi
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "${missing[@]}")
}

# VeNCrypt Plain against Xvnc (issue 11, cli/tests/vencrypt.rs) authenticates through PAM
# (`-PAMService tigervnc`, gotcha G4), so it needs a real user: no home, no login shell.
plain_user() {
  if id vnctest >/dev/null 2>&1; then
    echo "user vnctest exists"
    return
  fi
  useradd -M -s /usr/sbin/nologin vnctest
  echo vnctest:plainpw1 | chpasswd
}

# The Rust tools: compiled from source (minutes of CPU on a fresh machine), so they build in
# the background while the downloads below (apt, pip, npm: network and disk) run.
rust_tools() {
  step "rustfmt, clippy" rust_components
  step "nightly toolchain" nightly_toolchain
  step "cargo-fuzz $CARGO_FUZZ_VERSION" cargo_fuzz
  step "wasm-bindgen-cli $WASM_BINDGEN_VERSION" wasm_bindgen_cli
  printf '%s\n' "${SUMMARY[@]}" > "$RUST_SUMMARY"
}

echo "install-test-deps: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
TOTAL_START=$EPOCHREALTIME
RUST_LOG=$(mktemp)
RUST_SUMMARY=$(mktemp)
rust_tools > "$RUST_LOG" 2>&1 &
RUST_PID=$!
# A failed download step ends the script: the background build must not outlive it.
cleanup() {
  pkill -TERM -P "$RUST_PID" 2>/dev/null || true
  kill "$RUST_PID" 2>/dev/null || true
  rm -f "$RUST_LOG" "$RUST_SUMMARY"
}
trap cleanup EXIT
step "apt packages" apt_packages
step "qemu-system-x86 (backports)" qemu_backports
step "python tools (venv)" python_tools
step "node tools" node_tools
step "PAM user vnctest" plain_user
rust_status=0
wait "$RUST_PID" || rust_status=$?
echo "--- rust tools (built in the background meanwhile):"
cat "$RUST_LOG"
SUMMARY+=("$(cat "$RUST_SUMMARY")")
if [ "$rust_status" -ne 0 ]; then
  echo "error: installing the Rust tools failed (exit $rust_status); the log is above" >&2
  exit "$rust_status"
fi
# --- Later issues: add further tools as `step "name" function` lines here (pip, npm,
# --- ...), each skipping itself when present.

echo "install-test-deps: timing"
printf '%s\n' "${SUMMARY[@]}"
printf '  %-28s %7s s\n' "total" "$(awk -v a="$TOTAL_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
