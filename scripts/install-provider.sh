#!/usr/bin/env bash
# Builds terraform-provider-ssoplane and installs it into a local filesystem
# mirror for this machine's platform, so that
#
#   required_providers { ssoplane = { source = "ssoplane/ssoplane", version = "~> 0.1" } }
#
# works with a plain `terraform init`. The default directory is the one
# Terraform searches without any CLI configuration (the implied local
# mirror), ~/.terraform.d/plugins; with --dir, point a CLI configuration's
# `provider_installation { filesystem_mirror { path = "DIR" } }` at it.
#
# Usage: scripts/install-provider.sh [--dir DIR] [--profile release|dev]
# Needs only cargo and coreutils.
set -euo pipefail

dir="${HOME}/.terraform.d/plugins"
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
    --profile) profile="${2:?--profile needs a cargo profile}"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-provider: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/provider-platform.sh
. "$root/scripts/provider-platform.sh"

bin="$(build_provider "$root" "$profile" "")"
version="$(provider_version "$bin")"
platform="$(host_platform)"
dest="$dir/registry.terraform.io/ssoplane/ssoplane/$version/$platform"
mkdir -p "$dest"
install -m 0755 "$bin" "$dest/terraform-provider-ssoplane_v$version"
echo "installed terraform-provider-ssoplane $version ($platform) in $dest"
