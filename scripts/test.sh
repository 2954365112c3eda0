#!/usr/bin/env bash
# The whole test suite, as CI runs it (README's second command). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings

echo "== unit and integration tests (engine, FUSE mounts, conformance, fixtures, images)"
cargo test --workspace

echo "== the FUSE mount tests once more without passthrough (every write a request)"
NTLINKFS_TEST_NO_PASSTHROUGH=1 cargo test -p backend-fuse

echo "== conformance matrix: core, fuse, ntfs-3g"
cargo build --release -p ntlinkfs
mkdir -p target/reports
target/release/ntlinkfs conformance --target core,fuse,ntfs-3g \
    --json target/reports/conformance.json --junit target/reports/conformance.xml

echo "== Windows: cross-compile and link for Windows, tests and conformance (core) under Wine"
scripts/windows-cross.sh

if [ -x scripts/reliability.sh ]; then
    echo "== reliability (short): pjdfstest, fsx, stress, differential fuzzing"
    scripts/reliability.sh --short
fi
