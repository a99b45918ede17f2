#!/usr/bin/env bash
# Install those of the named Debian packages that are missing (as root, with apt-get), for the
# tests that run Debian's programs: `scripts/debian_packages.sh haproxy pgbouncer ...`.
# Where they cannot be installed (no root, not Debian, no network), it says so and succeeds:
# the tests that need them are skipped, saying why, and the rest still run.
set -uo pipefail

missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
((${#missing[@]})) || exit 0

if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing ${missing[*]} (install them as root with apt-get): their tests will be skipped."
  exit 0
fi
echo "Installing ${missing[*]}..."
{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
  || echo "Could not install ${missing[*]}: their tests will be skipped."
exit 0
