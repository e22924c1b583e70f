#!/usr/bin/env bash
# The VS Code extension: install what it needs, build, lint, unit tests, package the .vsix, and
# the end-to-end test in a real VS Code (code-server 4.100.3 + Playwright + Debian's Chromium)
# against this repository's language server (.venv/bin/codeloupe).
#
# Cached between runs: npm's cache (~/.npm), vscode-extension/node_modules (kept while
# package-lock.json is unchanged) and code-server (in $CODELOUPE_VSCODE_CACHE, default
# ~/.cache/codeloupe-vscode). Where a prerequisite of the end-to-end test cannot be installed
# (not root, no apt), that test says what is missing and is skipped; as root with apt, a missing
# prerequisite is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EXT=$ROOT/vscode-extension
CODE_SERVER_VERSION=4.100.3
export CODELOUPE_VSCODE_CACHE=${CODELOUPE_VSCODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codeloupe-vscode}
CODE_SERVER_DIR=$CODELOUPE_VSCODE_CACHE/code-server-$CODE_SERVER_VERSION
start=$SECONDS
step() { echo "== $* [$((SECONDS - start))s]"; }

is_root_with_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

if ! command -v node >/dev/null 2>&1 || ! node -e "process.exit(Number(process.versions.node.split('.')[0]) < 20 ? 1 : 0)"; then
  echo "Node.js >= 20 with npm is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

# --- system packages: Chromium, and what code-server's native modules build with ----------------
apt_needed=()
command -v chromium >/dev/null 2>&1 || apt_needed+=(chromium)
if [ ! -f "$CODE_SERVER_DIR/.ready" ]; then
  for pkg in libkrb5-dev libxkbfile-dev libsecret-1-dev pkg-config g++ make; do
    dpkg -s "$pkg" >/dev/null 2>&1 || apt_needed+=("$pkg")
  done
fi
if [ ${#apt_needed[@]} -gt 0 ]; then
  if is_root_with_apt; then
    step "apt-get install ${apt_needed[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_needed[@]}") >/tmp/codeloupe-apt.log 2>&1 \
      || { echo "apt-get install failed (log: /tmp/codeloupe-apt.log)"; tail -5 /tmp/codeloupe-apt.log; }
  else
    echo "not root or no apt: cannot install ${apt_needed[*]}; the end-to-end test may be skipped"
  fi
fi

# --- the extension's npm packages (npm ci from the committed lock, skipped while unchanged) -------
lock_sum=$(sha256sum "$EXT/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$EXT/node_modules/.lock-sha256" 2>/dev/null)" != "$lock_sum" ]; then
  step "npm ci (vscode-extension)"
  # --ignore-scripts: nothing here needs one (esbuild ships its binary as a package), and some
  # (keytar's prebuild download) would reach outside the registry.
  (cd "$EXT" && npm ci --ignore-scripts --prefer-offline --no-progress --loglevel=error)
  echo "$lock_sum" >"$EXT/node_modules/.lock-sha256"
fi

# --- code-server, cached per version ------------------------------------------------------------
install_code_server() {
  local tmp=$CODE_SERVER_DIR.tmp rg
  # Native modules build against the installed Node's headers (node-gyp would download them).
  if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
  rm -rf "$tmp" && mkdir -p "$tmp"
  (
    cd "$tmp"
    npm init -y >/dev/null
    # Newer code-server needs Node 24; 4.100.3 runs on Node 20. --ignore-scripts: its postinstall
    # downloads from GitHub; the steps below do what it would, offline.
    npm install --ignore-scripts --no-progress --loglevel=error "code-server@$CODE_SERVER_VERSION"
    cd node_modules/code-server/lib/vscode
    npm install --omit=dev --ignore-scripts --no-progress --loglevel=error
    # @vscode/ripgrep's postinstall downloads rg from GitHub and skips when bin/ exists.
    rg=$(command -v rg || true)
    [ -n "$rg" ] || rg=$ROOT/.venv/bin/rg
    mkdir -p node_modules/@vscode/ripgrep/bin && cp "$rg" node_modules/@vscode/ripgrep/bin/rg
    npm_config_yes=true npm rebuild --loglevel=error   # native modules, against local headers
    ln -sfn node_modules node_modules.asar
    (cd bin/remote-cli && ln -sf code-linux.sh code-server)
    (cd bin/helpers && ln -sf browser-linux.sh browser.sh)
    (cd extensions && npm install --omit=dev --no-progress --loglevel=error >/dev/null)
    cd "$tmp" && npm_config_yes=true npm rebuild argon2 --loglevel=error
  )
  touch "$tmp/.ready"
  rm -rf "$CODE_SERVER_DIR" && mv "$tmp" "$CODE_SERVER_DIR"
}
if [ ! -f "$CODE_SERVER_DIR/.ready" ]; then
  step "install code-server $CODE_SERVER_VERSION into $CODE_SERVER_DIR"
  if ! install_code_server >/tmp/codeloupe-code-server.log 2>&1; then
    echo "code-server could not be installed (log: /tmp/codeloupe-code-server.log):"
    tail -15 /tmp/codeloupe-code-server.log
  fi
fi

# --- the language server the extension starts ------------------------------------------------------
if [ ! -x "$ROOT/.venv/bin/codeloupe" ]; then
  step "scripts/setup.sh (no .venv/bin/codeloupe yet)"
  ./scripts/setup.sh
fi

# --- build, lint, unit tests, package ------------------------------------------------------------
cd "$EXT"
step "lint (eslint, tsc)"
npm run --silent lint
step "unit tests"
node scripts/build.mjs --tests
node --test out-test/unit/
step "package (vsce)"
rm -f ./*.vsix
npx --no-install @vscode/vsce package </dev/null >/tmp/codeloupe-vsce.log 2>&1 || { cat /tmp/codeloupe-vsce.log; exit 1; }
grep -E "DONE" /tmp/codeloupe-vsce.log

# --- end to end in code-server --------------------------------------------------------------------
step "end-to-end test (code-server $CODE_SERVER_VERSION, Chromium, codeloupe serve)"
if is_root_with_apt; then export CODELOUPE_E2E_REQUIRED=1; fi
export CODE_SERVER=$CODE_SERVER_DIR/node_modules/.bin/code-server
export CODELOUPE_SERVER=$ROOT/.venv/bin/codeloupe
node out-test/e2e/run.js
step "done"
