#!/usr/bin/env bash
# Build the lab's Debian 12 systemd image with debootstrap, no registry.
# Usage: build.sh IMAGE_TAG
# Called by `spo lab up` only when no image with this recipe's hash exists.
set -euo pipefail

tag=${1:?usage: build.sh IMAGE_TAG}
here=$(cd "$(dirname "$0")" && pwd)
packages=$(grep -vE '^\s*(#|$)' "$here/packages.txt" | paste -sd, -)
rootfs=$(mktemp -d /var/tmp/spo-lab-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
# mktemp makes the directory 0700; as the image's / it would lock out every
# service user (MariaDB's package could not create its data directory).
chmod 0755 "$rootfs"

# A mirror can be given for sites behind a local Debian mirror; debootstrap
# uses its own default otherwise.
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" ${SPO_LAB_MIRROR:-}

chroot "$rootfs" /bin/sh -c '
  set -e
  # Package lists stay: the roles install with cache_valid_time, and lists
  # removed under a fresh update stamp would make every package unknown.
  apt-get clean
  # pg_createcluster picked the first free port while the build host held 5432;
  # a lab host is a machine of its own, with PostgreSQL on the standard port.
  sed -i "s/^port = .*/port = 5432/" /etc/postgresql/*/main/postgresql.conf
  # Containers get their hostname and resolver from podman.
  : > /etc/machine-id
  # Services a container cannot run, or that only slow its boot.
  systemctl mask systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
    getty@tty1.service console-getty.service systemd-logind.service 2>/dev/null || true
'
tar -C "$rootfs" -c . | podman import --change 'CMD ["/sbin/init"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' - "$tag"
