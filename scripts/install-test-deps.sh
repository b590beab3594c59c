#!/usr/bin/env bash
# Installs the system tools the tests need, on Debian 12 as root, then prints their versions on
# one line. Idempotent: apt-get runs (one update, one install) only when a tool is missing.
#   tcpdump     live capture tests (capture, capture --probe)
#   tshark      the reference dissector the tests cross-check against
#   chromium    the HTML report is rendered and checked in headless Chromium
#   prometheus, nftables, iproute2, openssl
#               fixtures' make.sh scripts and tests (network namespaces, dropped SYNs, certificates)
# Used by `npm run test:fresh` (and so by .ci/run).
set -euo pipefail

# command:Debian package
TOOLS=(tcpdump:tcpdump tshark:tshark chromium:chromium prometheus:prometheus nft:nftables ip:iproute2 openssl:openssl)

missing=()
for tool in "${TOOLS[@]}"; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-test-deps: ${missing[*]} missing and not root: run as root (sudo npm run test:fresh) or install them yourself" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: ${missing[*]} missing and no apt-get (Debian 12 expected): install them with your package manager" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The first version-looking word of a tool's version output.
version() { "$@" 2>&1 | grep -oE '[0-9]+(\.[0-9]+)+[^ ,()]*' | head -1 || true; }
echo "test tools: tcpdump $(version tcpdump --version), tshark $(version tshark --version)," \
  "chromium $(version chromium --version), prometheus $(version prometheus --version)," \
  "nftables $(version nft --version), iproute2 $(version ip -V), openssl $(version openssl version)"
