#!/usr/bin/env bash
# Installs what the tests need beyond npm packages, from Debian's packages:
# Chromium (browser tests), iptables, nftables and iproute2 (real-packet partition
# tests in network namespaces, and the agents' kernel fault injection), prometheus (promtool checks /metrics), and the real stores
# the store tests start themselves (redis-server, PostgreSQL 15). Skips what is
# already there; needs root for apt-get.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)

if [ ${#need[@]} -eq 0 ]; then
  echo "test dependencies: all present"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "test dependencies missing (${need[*]}) and not root: install them with apt-get, or the tests that need them will say why they skip" >&2
  exit 0
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "test dependencies installed"
