# Sourced by tools/example and tools/test: installs the Debian packages that are missing,
# then configures and builds into $1 (default: build) with any extra CMake arguments after it.
set -euo pipefail

fpshim_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fpshim_packages=(cmake g++ make libfmt-dev nlohmann-json3-dev doctest-dev python3 libc6-dev zlib1g-dev)

install_missing_packages() {
  local missing=() pkg
  for pkg in "${fpshim_packages[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "fpshim: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

configure_and_build() {
  local dir="$fpshim_root/${1:-build}"
  shift || true
  cmake -S "$fpshim_root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)" >/dev/null
}
