#!/usr/bin/env bash
# Build the lab/molecule node image locally: Debian bookworm with systemd, sshd and python3, made with
# debootstrap and imported into podman (no registry pulls). Cached: the image carries a label with the hash
# of this recipe and is rebuilt only when the recipe changes or FORCE=1.
#   scripts/build-node-image.sh            -> localhost/mediacluster-node:bookworm
set -euo pipefail
image=${NODE_IMAGE:-localhost/mediacluster-node:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=python3,python3-apt,systemd,systemd-sysv,dbus,openssh-server,sudo,iproute2,ca-certificates,procps,kmod,gnupg
recipe=$(sha256sum < "$0" | cut -c1-16)

for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || {
    echo "build-node-image: '$tool' is missing. Run 'make host-setup' (or: apt-get install -y podman runc debootstrap)." >&2
    exit 1
  }
done

if [ "${FORCE:-0}" != 1 ] && podman image exists "$image" \
   && [ "$(podman image inspect --format '{{ index .Labels "mediacluster.recipe" }}' "$image")" = "$recipe" ]; then
  echo "build-node-image: $image is cached (recipe $recipe)"
  exit 0
fi

start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/mc-rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  echo "build-node-image: debootstrap failed (mirror $mirror); last lines:" >&2
  tail -n 20 "$work/debootstrap.log" >&2
  exit 1
}

# Container-friendly defaults: no recommends, no docs, sshd for root with keys only, an apt mirror that works.
cat >"$rootfs/etc/apt/apt.conf.d/90mediacluster" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT
# As the official Debian and Ubuntu container images set apt up (their docker-no-languages and docker-apt-speedup
# files): no translated package descriptions in the index, and dpkg without an fsync per unpacked file (a
# container's disk goes with the container).
# Measured on the 2-core machine: apt-get update 4.1 -> 2.9 s, the node packages' install 6.4 -> 4.6 s per node.
echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/90mediacluster-no-languages"
echo 'force-unsafe-io' >"$rootfs/etc/dpkg/dpkg.cfg.d/90mediacluster-unsafe-io"
echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
echo "deb $mirror bookworm-updates main" >>"$rootfs/etc/apt/sources.list"
echo "deb http://deb.debian.org/debian-security bookworm-security main" >>"$rootfs/etc/apt/sources.list"
mkdir -p "$rootfs/root/.ssh" && chmod 0700 "$rootfs/root/.ssh"
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' >"$rootfs/etc/ssh/sshd_config.d/mediacluster.conf"
# Units that have nothing to do in a container and only slow the boot down.
for unit in getty@tty1.service console-getty.service systemd-udevd.service systemd-udev-trigger.service \
            systemd-remount-fs.service sys-kernel-debug.mount sys-kernel-tracing.mount; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
rm -f "$rootfs/etc/machine-id" && : >"$rootfs/etc/machine-id"
# no package lists and no stale binary cache: apt must refresh before installing (cache_valid_time sees no cache)
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
# apt's cache_valid_time looks at this directory's mtime: make the empty lists look as old as on a cloud image
touch -d '2000-01-01 00:00:00' "$rootfs/var/lib/apt/lists"

tar -C "$rootfs" -c . | podman import \
  --change 'CMD ["/sbin/init"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  --change "LABEL mediacluster.recipe=$recipe" \
  - "$image" >/dev/null 2>&1
echo "build-node-image: built $image in $(( $(date +%s) - start ))s"
