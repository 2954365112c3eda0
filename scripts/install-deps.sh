#!/usr/bin/env bash
# Installs what a fresh Debian bookworm machine (root, Rust stable) lacks for ntlinkfs:
# FUSE 3 (mount helper fusermount3), ntfs-3g + mkntfs (real NTFS for the conformance suite),
# attr (getfattr/setfattr), git and python3 (backend-fuse's case-only rename tests run `git mv`
# and `os.rename` on a mount), rsync and python3-venv (the cli's host-link tests restore a tree
# with `rsync -aH` and run `python3 -m venv` on a mount), and the external suites pjdfstest and fsx from crates.io.
# Idempotent: skips what is already there.
# `--mount`: only what mounting a drive needs (skips the test-only tools and the external suites).
set -euo pipefail
if [ "${1:-}" = "--mount" ]; then NTLINKFS_SKIP_EXTERNAL_SUITES=1; fi

need_apt=()
command -v fusermount3 >/dev/null 2>&1 || need_apt+=(fuse3)
command -v ntfs-3g >/dev/null 2>&1 || need_apt+=(ntfs-3g)
command -v mkntfs >/dev/null 2>&1 || need_apt+=(ntfs-3g)
command -v setfattr >/dev/null 2>&1 || need_apt+=(attr)
# Users other than root mount through the setuid fusermount3, but the FUSE library opens
# /dev/fuse first: distributions ship it 0666 (udev's default rule); a container may not.
if [ "$(stat -c %a /dev/fuse)" != 666 ] && [ "$(id -u)" -eq 0 ]; then
    chmod 666 /dev/fuse
fi

if [ "${NTLINKFS_SKIP_EXTERNAL_SUITES:-0}" != 1 ]; then
    # What only the tests need.
    command -v git >/dev/null 2>&1 || need_apt+=(git)
    command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
    command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)
    # Debian's python3 has venv but not ensurepip, which `python3 -m venv` needs, without
    # python3-venv.
    python3 -c 'import ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_apt[@]}"
fi

if [ ! -e /dev/fuse ]; then
    echo "install-deps: /dev/fuse is missing: load the fuse module (modprobe fuse) or run the container with --device /dev/fuse" >&2
    exit 1
fi

if [ "${NTLINKFS_SKIP_EXTERNAL_SUITES:-0}" != 1 ]; then
    command -v pjdfstest >/dev/null 2>&1 || cargo install --locked pjdfstest
    command -v fsx >/dev/null 2>&1 || cargo install --locked fsx
fi
