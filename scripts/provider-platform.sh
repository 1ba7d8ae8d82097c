# Shared by install-provider.sh and release-provider.sh (sourced, not run):
# building the provider, its version, and Terraform's platform names.

# build_provider ROOT PROFILE [TARGET]: builds and prints the binary's path
# (from cargo's own report, so CARGO_TARGET_DIR and profiles just work).
build_provider() {
  local root="$1" profile="$2" target="${3:-}" args=()
  [ -n "$target" ] && args+=(--target "$target")
  (cd "$root" && cargo build --profile "$profile" -p terraform-provider-ssoplane --bin terraform-provider-ssoplane \
      "${args[@]}" --message-format=json-render-diagnostics) \
    | sed -n 's/.*"executable":"\([^"]*terraform-provider-ssoplane\)".*/\1/p' | tail -n 1 \
    | { read -r path && [ -x "$path" ] && echo "$path" || { echo "provider binary not found after cargo build" >&2; return 1; }; }
}

# provider_version BINARY: the version the binary reports (`--version`).
provider_version() {
  "$1" --version | sed -n 's/^terraform-provider-ssoplane \([0-9][0-9A-Za-z.+-]*\)$/\1/p' \
    | { read -r v && echo "$v" || { echo "cannot read the provider's version" >&2; return 1; }; }
}

# terraform_platform OS ARCH: Terraform's <os>_<arch> for uname-style names.
terraform_platform() {
  local os arch
  case "$1" in
    Linux|linux) os=linux ;; Darwin|darwin) os=darwin ;; FreeBSD|freebsd) os=freebsd ;;
    *) echo "unsupported OS $1" >&2; return 1 ;;
  esac
  case "$2" in
    x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; i386|i686|x86) arch=386 ;; armv6l|armv7l|arm) arch=arm ;;
    *) echo "unsupported architecture $2" >&2; return 1 ;;
  esac
  echo "${os}_${arch}"
}

host_platform() {
  terraform_platform "$(uname -s)" "$(uname -m)"
}

# target_platform TRIPLE: Terraform's platform for a Rust target triple.
target_platform() {
  local arch="${1%%-*}" os
  case "$1" in
    *-linux-*) os=linux ;; *-apple-darwin) os=darwin ;; *-freebsd) os=freebsd ;;
    *) echo "unsupported target $1" >&2; return 1 ;;
  esac
  terraform_platform "$os" "$arch"
}
