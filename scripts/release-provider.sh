#!/usr/bin/env bash
# Builds terraform-provider-ssoplane and lays out a release the way a
# provider registry and a network mirror expect it, so publishing later is
# one step. In OUT (default dist/provider):
#
#   terraform-provider-ssoplane_<ver>_<os>_<arch>.zip   the binary, as
#                                                       terraform-provider-ssoplane_v<ver>
#   terraform-provider-ssoplane_<ver>_manifest.json     protocol version 6
#   terraform-provider-ssoplane_<ver>_SHA256SUMS        every zip and the manifest
#   mirror/registry.terraform.io/ssoplane/ssoplane/     `terraform providers mirror` layout:
#       index.json, <ver>.json (with h1:/zh: hashes) and the zips
#
# The mirror/ tree serves as a network mirror as it is, and as a
# filesystem mirror (packed layout). Run once per platform (or with
# --target TRIPLE, given that toolchain); each run adds its zip and
# rewrites the sums and indexes over every zip of that version. A public
# registry also wants SHA256SUMS signed (SHA256SUMS.sig) with the
# publisher's GPG key: not done here.
#
# Usage: scripts/release-provider.sh [--out OUT] [--target TRIPLE] [--profile release|dev]
# Needs cargo, coreutils and python3 (zipfile; no zip binary).
set -euo pipefail

out=dist/provider
target=""
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    --target) target="${2:?--target needs a target triple}"; shift 2 ;;
    --profile) profile="${2:?--profile needs a cargo profile}"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release-provider: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/provider-platform.sh
. "$root/scripts/provider-platform.sh"

bin="$(build_provider "$root" "$profile" "$target")"
if [ -n "$target" ]; then
  platform="$(target_platform "$target")"
  # A cross-built binary may not run here: take the version from cargo.
  version="$(cd "$root" && cargo pkgid -p terraform-provider-ssoplane | sed 's/.*[#@]//')"
else
  platform="$(host_platform)"
  version="$(provider_version "$bin")"
fi
mkdir -p "$out"
python3 "$root/scripts/release_layout.py" "$out" "$version" "$platform" "$bin"
