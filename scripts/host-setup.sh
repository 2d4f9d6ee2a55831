#!/usr/bin/env bash
# System packages the lab and the test suite need on the Debian 12 development/CI machine (root).
# Idempotent: installs only what is missing. rclone + fuse3: the real rclone mount test (tests/media_stack/test_rclone_real.py,
# bind-mounted into a node container). qbittorrent-nox is the real qBittorrent the tests run as a peer, only
# ever inside a private network namespace with loopback (tests/peers/qbittorrent_real.py); its service stays off.
# ansible-test sanity lints shell scripts with the shellcheck package (tests/test_galaxy.py).
set -euo pipefail
need=()
for pkg in podman runc debootstrap uidmap slirp4netns python3-venv make git openssh-client \
           nfs-ganesha nfs-ganesha-vfs libnfs-utils iproute2 busybox \
           qbittorrent-nox rclone fuse3 shellcheck; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "host-setup: missing packages: ${need[*]}; run as root or: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  echo "host-setup: installed ${need[*]}"
fi
# The distribution's ganesha service is not used: the lab runs ganesha inside a node container.
systemctl disable --now nfs-ganesha >/dev/null 2>&1 || true
# exportfs as a test peer (tests/unit/nas/test_nfs_exports_exportfs.py): nfs-kernel-server conflicts with
# nfs-ganesha and its service cannot start here, so the binary is extracted from Debian's package, not installed.
peer=/usr/local/lib/mediacluster-test-peers/nfs-kernel-server
if [ ! -x "$peer/usr/sbin/exportfs" ] && [ "$(id -u)" = 0 ]; then
  tmp=$(mktemp -d)
  if (cd "$tmp" && apt-get download nfs-kernel-server >/dev/null 2>&1); then
    mkdir -p "$peer" && dpkg -x "$tmp"/nfs-kernel-server_*.deb "$peer" && echo "host-setup: extracted exportfs to $peer"
  else
    echo "host-setup: could not download nfs-kernel-server; the exportfs tests will skip" >&2
  fi
  rm -rf "$tmp"
fi
