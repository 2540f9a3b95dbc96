#!/usr/bin/env bash
# Installs the Debian packages the tests need (what `npm test` alone does not):
# run by `npm run test:full` and by CI. Needs root or sudo; installs only what
# is missing.
set -euo pipefail
# iproute2's `ip` lives in /usr/sbin, which a non-login shell may lack.
export PATH="$PATH:/usr/sbin:/sbin"
# Debian packages the tests use: iproute2 for network-namespace labs (mDNS on a
# private LAN), sip-tester (sipp) as a third-party SIP peer, coturn for its
# turnutils clients against our TURN server, Chromium for the browser tests
# (WebRTC through our TURN, the softphone end to end), iptables and nftables
# for the NAT lab's routers; dpkg-deb (dpkg) and unshare (util-linux) for
# `npm run dist:check`, which builds the .deb offline in an empty network
# namespace (both are Essential on Debian, so normally already there); faketime
# for a node with a shifted clock; baresip (baresip-core) and linphonec
# (linphone-cli) as stock SIP phones at the gateway.
need=()
command -v ip >/dev/null || need+=(iproute2)
command -v sipp >/dev/null || need+=(sip-tester)
command -v turnutils_uclient >/dev/null || need+=(coturn)
command -v chromium >/dev/null || need+=(chromium)
command -v iptables >/dev/null || need+=(iptables)
command -v nft >/dev/null || need+=(nftables)
command -v dpkg-deb >/dev/null || need+=(dpkg)
command -v unshare >/dev/null || need+=(util-linux)
command -v faketime >/dev/null || need+=(faketime)
command -v baresip >/dev/null || need+=(baresip-core)
command -v linphonec >/dev/null || need+=(linphone-cli)
if [ ${#need[@]} -eq 0 ]; then
  echo "== test dependencies: all installed"
  exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install as root: apt-get install ${need[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "== apt-get install ${need[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
