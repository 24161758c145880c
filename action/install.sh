#!/usr/bin/env bash
# Installs dsops for the GitHub Action (action.yml), and prints `path=` to
# GITHUB_OUTPUT and the binary's directory to GITHUB_PATH.
#
# 1. The version: DSOPS_VERSION, or the version of the action's own source
#    (Cargo.toml), so that `uses: dsops/dsops@<sha>` runs that source's release.
# 2. The runner's tool cache (RUNNER_TOOL_CACHE/dsops/VERSION/ARCH, complete
#    when ARCH.complete exists, as @actions/tool-cache lays it out): used as is.
# 3. Else the release binary for the runner (docs/github-action.md, "Release
#    layout"): dsops-VERSION-TARGET.tar.gz (.zip on Windows) and
#    dsops-VERSION-sha256sums.txt from
#    DSOPS_RELEASE_BASE_URL/vVERSION/ (default: the action repository's GitHub
#    releases). The archive's SHA-256 must match the checksums file before
#    anything in it is run; a mismatch fails the step.
# 4. Else (no binary for this runner, no such release, or DSOPS_VERSION=source)
#    `cargo install --locked` of the action's own source.
set -euo pipefail

fail() {
  printf '::error title=dsops install::%s\n' "$1"
  exit 1
}

action_dir=${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
source_version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$action_dir/Cargo.toml" | head -n 1)
version=${DSOPS_VERSION:-$source_version}
version=${version#v}
[[ -n $version ]] || fail "cannot read the version from $action_dir/Cargo.toml"
if [[ $version != source && ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
  fail "version '$version' is not a release version (1.2.3) or 'source'"
fi

os=${RUNNER_OS:-$(uname -s)}
arch=${RUNNER_ARCH:-$(uname -m)}
case "$os/$arch" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc ;;
  *) target= ;;
esac
exe=dsops
[[ $os == Windows ]] && exe=dsops.exe
arch_dir=$(printf '%s' "$arch" | tr '[:upper:]' '[:lower:]')

cache_root=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}
tool_dir="$cache_root/dsops/$version/$arch_dir"

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

# Downloads $1 to $2: 0 when done, 4 on HTTP 404 (no such file), 1 otherwise.
download() {
  local proto='=https'
  # Plain HTTP only for a loopback mirror (the project's tests).
  if [[ $1 =~ ^http://(127\.0\.0\.1|localhost|\[::1\])[:/] ]]; then
    proto='=http'
  fi
  local status
  status=$(curl --silent --show-error --location --proto "$proto" --proto-redir '=https' \
    --retry 3 --retry-delay 1 --connect-timeout 10 --max-time 300 \
    --output "$2" --write-out '%{http_code}' "$1") || return 1
  case $status in
    200) return 0 ;;
    404) return 4 ;;
    *)
      printf 'dsops install: %s answered HTTP %s\n' "$1" "$status" >&2
      return 1
      ;;
  esac
}

install_release() {
  local base=${DSOPS_RELEASE_BASE_URL:-}
  if [[ -z $base ]]; then
    local repository=${DSOPS_RELEASE_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}
    [[ -n $repository ]] || return 4
    base="https://github.com/$repository/releases/download"
  fi
  local ext=tar.gz
  [[ $target == *windows* ]] && ext=zip
  local asset="dsops-$version-$target.$ext"
  local sums="dsops-$version-sha256sums.txt"
  local work
  work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/dsops-install.XXXXXX")
  local code=0
  download "$base/v$version/$sums" "$work/$sums" || code=$?
  [[ $code == 0 ]] && { download "$base/v$version/$asset" "$work/$asset" || code=$?; }
  if [[ $code != 0 ]]; then
    rm -rf "$work"
    return "$code"
  fi
  local expected actual
  expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$work/$sums")
  actual=$(sha256 "$work/$asset")
  if [[ -z $expected ]]; then
    rm -rf "$work"
    fail "$sums has no checksum for $asset"
  fi
  if [[ $expected != "$actual" ]]; then
    rm -rf "$work"
    fail "the SHA-256 of $asset is $actual, but $sums says $expected: refusing to run it"
  fi
  mkdir -p "$work/unpacked"
  if [[ $ext == zip ]]; then
    unzip -q "$work/$asset" -d "$work/unpacked"
  else
    tar -xzf "$work/$asset" -C "$work/unpacked"
  fi
  [[ -f $work/unpacked/$exe ]] || fail "$asset has no $exe"
  rm -rf "$tool_dir"
  mkdir -p "$tool_dir"
  mv "$work/unpacked/$exe" "$tool_dir/$exe"
  chmod +x "$tool_dir/$exe"
  rm -rf "$work"
  echo "dsops install: $asset (SHA-256 $actual) into $tool_dir" >&2
}

install_source() {
  command -v cargo >/dev/null ||
    fail "no dsops release binary fits this runner ($os/$arch, version $version), and cargo is not installed to build it"
  echo "dsops install: building $action_dir with cargo install --locked" >&2
  local root
  root=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/dsops-build.XXXXXX")
  cargo install --locked --quiet --no-default-features --path "$action_dir/crates/dsops-cli" --root "$root"
  rm -rf "$tool_dir"
  mkdir -p "$tool_dir"
  mv "$root/bin/$exe" "$tool_dir/$exe"
  rm -rf "$root"
}

if [[ -f "$tool_dir.complete" && -x "$tool_dir/$exe" ]]; then
  echo "dsops install: $version from the tool cache ($tool_dir)" >&2
else
  code=4
  if [[ $version != source && -n $target ]]; then
    code=0
    install_release || code=$?
  fi
  case $code in
    0) ;;
    4)
      if [[ $version != source && $version != "$source_version" ]]; then
        fail "there is no dsops $version release binary for $os/$arch; use the action's own version ($source_version) or 'source'"
      fi
      install_source
      ;;
    *) fail "cannot download dsops $version for $target" ;;
  esac
  # A build of `source` is not kept: the next job may use another commit.
  if [[ $version != source ]]; then
    touch "$tool_dir.complete"
  fi
fi

if [[ -n ${GITHUB_OUTPUT:-} ]]; then
  echo "path=$tool_dir/$exe" >>"$GITHUB_OUTPUT"
fi
if [[ -n ${GITHUB_PATH:-} ]]; then
  echo "$tool_dir" >>"$GITHUB_PATH"
fi
