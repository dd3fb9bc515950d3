#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what vhost-mdev needs on Debian 12 and extract, into $CACHE (never
# into git), the files we use from Debian's linux-source-6.12 tarball: the
# kselftest harness, checkpatch.pl with its data files, kernel-doc, the
# installed uAPI headers, and the tree the debug kernel is built from.
#
# Idempotent: a stamp named after this script's hash records success.

set -euo pipefail

CACHE=${CACHE:-$HOME/.cache/vhost-mdev}
here=$(cd "$(dirname "$0")" && pwd)
stamp="$CACHE/deps-$(sha1sum < "$here/deps.sh" | cut -c1-12).stamp"

PACKAGES=(
	linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.12
	linux-image-amd64 linux-headers-amd64
	build-essential libc6-dev make gcc kmod xz-utils rsync cpio
	busybox-static qemu-system-x86 ipxe-qemu seabios
	sparse perl python3 flex bison libelf-dev libssl-dev bc
	mdevctl iproute2 procps ethtool dpdk-dev librte-net-virtio23
	debhelper dh-dkms dkms lintian debootstrap python3-sphinx
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients udev gnuplot-nox
)

say() { printf 'deps: %s\n' "$*" >&2; }

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null |
		grep -qx installed || missing+=("$p")
done
if ((${#missing[@]})); then
	if [ "$(id -u)" -ne 0 ]; then
		say "need root to install: ${missing[*]}"
		exit 1
	fi
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
tarball=$(ls /usr/src/linux-source-6.12.tar.xz)
mkdir -p "$CACHE"

# The whole tree: the harness, checkpatch and kernel-doc are read from it and
# the debug kernel is built out of it with O=, so it stays pristine.
if [ "$(cat "$CACHE/src/.version" 2>/dev/null)" != "$srcver" ]; then
	say "extracting linux-source $srcver"
	rm -rf "$CACHE/src"
	mkdir -p "$CACHE/src"
	tar -xf "$tarball" -C "$CACHE/src"
	mv "$CACHE/src"/linux-source-6.12 "$CACHE/src/linux-source"
	echo "$srcver" > "$CACHE/src/.version"
fi

# The build host's /usr/include/linux is Debian 12's 6.1: too old for the
# 6.12 vhost uAPI (GET_VRING_SIZE, RESUME, IOTLB_PERSIST, ...).
if [ "$(cat "$CACHE/uapi/.version" 2>/dev/null)" != "$srcver" ]; then
	say "installing the $srcver uAPI headers"
	rm -rf "$CACHE/uapi" "$CACHE/uapi-build"
	make -s -C "$CACHE/src/linux-source" O="$CACHE/uapi-build" \
		INSTALL_HDR_PATH="$CACHE/uapi" headers_install >&2
	rm -rf "$CACHE/uapi-build"
	echo "$srcver" > "$CACHE/uapi/.version"
fi

rm -f "$CACHE"/deps-*.stamp
touch "$stamp"
say "ready (linux-source $srcver)"
