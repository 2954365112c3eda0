#!/usr/bin/env bash
# Builds ntlinkfs's Windows half on Linux and runs its tests under Wine: compiles and links
# vfs-core, backend-winfsp, conformance and the ntlinkfs binary for x86_64-pc-windows-gnullvm
# (every target, warnings and clippy lints denied), runs every test binary of those crates
# under Wine, and runs `ntlinkfs.exe conformance --target core`. Exits non-zero on
# any failure. The crates are listed in CRATES below. What it cannot test is the mount itself (that needs Windows and the WinFsp
# driver); see backend-winfsp/README-windows.md.
#
# For Debian bookworm on x86_64, as root (or with sudo). It installs what it needs from
# Debian's archive (mingw-w64, clang/lld, Wine, and the Rust toolchain's own library
# dependencies) and uses crates.io for the crates. Nothing else is downloaded.
#
# The toolchain is Debian's rustc-web (bookworm-security), which can build std from source.
# Its packages are fetched with `apt-get download` and unpacked into a private directory, not
# installed: the host's rustup toolchain, /usr/bin and the repository's Cargo.lock are left
# as they are (the cross build resolves into its own copy of the lock file).
#
# Where things go (both can be moved with the variables in brackets):
#   downloads and the unpacked toolchain  ~/.cache/ntlinkfs-windows-cross  [NTLINKFS_WINCROSS_CACHE]
#     (outside the repository, so a fresh clone on the same machine reuses them; optional:
#     an empty cache is filled again: 120 MB of packages, 490 MB with the unpacked toolchain)
#   build tree, Wine prefix, logs         target/windows-cross             [NTLINKFS_WINCROSS_OUT]
#     (up to 2 GB)
# Measured on a 2-core machine shared with other builds (so wall-clock figures are "at most"):
# cold (no packages, empty cache, empty target/ and cargo home) 15.5 min wall, 6.6 min CPU,
# ~435 MB downloaded (270 MB apt packages, 120 MB Rust packages, 47 MB crates and index);
# warm (nothing changed) about 35 s of CPU, 0.5 to 2.5 min wall with the load, mostly the
# tests under Wine.
# JOBS sets cargo's parallelism (default: cargo's own).
set -euo pipefail
# No silent exit: name the command that failed.
trap 'echo "windows-cross: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

# The crates compiled for Windows with all their targets, linted, and whose every test binary
# (unit, integration and doc tests) runs under Wine. Add a crate here when it runs on Windows.
# Build and tests use this one list on purpose: cargo unifies dependency features over the
# selected packages, so a different selection for the tests would compile everything again.
CRATES=(vfs-core host backend-winfsp conformance ntlinkfs-bench ntlinkfs)

# Debian packages installed on the host: the MinGW-w64 runtime and import libraries (with
# GCC 12's libgcc_eh), the clang and lld that link for the gnullvm target, Wine 8.0 to run
# the result, and flock. The Rust packages' own library dependencies (libllvm, libgit2, ...)
# are added from their control files.
HOST_PACKAGES=(gcc-mingw-w64-x86-64 clang-22 lld-22 wine64 util-linux)
CLANG=clang-22
# Debian's Rust packages, downloaded and unpacked privately (all of one version). The shared
# libstd-rust-web-X.Y package is added by name from rustc-web's version; rust-web-src is
# handled apart (only its library/ tree is unpacked).
RUST_PACKAGES=(rustc-web cargo-web libstd-rust-web-dev rust-web-clippy)

TRIPLE=x86_64-pc-windows-gnullvm
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${NTLINKFS_WINCROSS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ntlinkfs-windows-cross}"
OUT="${NTLINKFS_WINCROSS_OUT:-$ROOT/target/windows-cross}"
mkdir -p "$CACHE" "$OUT/tools/lib" "$OUT/logs"
OUT="$(cd "$OUT" && pwd)"

say() { printf 'windows-cross: %s\n' "$*"; }
die() {
    printf 'windows-cross: %s\n' "$*" >&2
    exit 1
}
elapsed() { printf '%ss' "$((SECONDS - T0))"; }
T0=$SECONDS

if [ "$(uname -m)" != x86_64 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "needs Debian (bookworm) on x86_64: it installs mingw-w64, clang, Wine and rustc-web with apt-get"
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    die "run as root (or install sudo): packages are installed with apt-get"
fi
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)

# ---------------------------------------------------------------------------------------------
# 1. Debian packages.

apt_updated=0
apt_update() {
    if [ "$apt_updated" = 0 ]; then
        say "apt-get update"
        "${APT[@]}" update -qq
        apt_updated=1
    fi
}
not_installed() {
    local p
    for p in "$@"; do
        [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] && continue
        # A virtual package (libc-dev) is satisfied when apt would install nothing for it.
        local plan
        if plan="$(apt-get -s -qq install "$p" 2>/dev/null)" && ! grep -q '^Inst ' <<<"$plan"; then
            continue
        fi
        echo "$p"
    done
}
install_packages() {
    local missing
    mapfile -t missing < <(not_installed "$@")
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_update
        say "installing ${missing[*]}"
        "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}
# The candidate version of a package in the local package lists (empty without lists).
candidate() {
    apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

install_packages "${HOST_PACKAGES[@]}"

# Only one run at a time fills the cache (two worktrees on one machine share it).
exec 9>"$CACHE/.lock"
flock 9

# The version to use: the package lists' candidate; without lists, the newest cached one.
version="$(candidate rustc-web)"
if [ -z "$version" ]; then
    version="$(find "$CACHE" -maxdepth 2 -name .complete -path '*/rustc-web-*' -printf '%h\n' |
        sed 's|.*/rustc-web-||' | sort -V | tail -n 1)"
fi
if [ -z "$version" ]; then
    apt_update
    version="$(candidate rustc-web)"
fi
[ -n "$version" ] || die "rustc-web is not in the package lists: bookworm-security must be among the apt sources"
DEBS="$CACHE/rustc-web-$version"

if [ ! -e "$DEBS/.complete" ]; then
    # libstd-rust-web-dev names the shared library package of its version (libstd-rust-web-1.NN).
    libstd="$(apt-cache show "libstd-rust-web-dev=$version" 2>/dev/null |
        grep -o -m1 'libstd-rust-web-[0-9][0-9.]*' || true)"
    if [ -z "$libstd" ]; then
        apt_update
        libstd="$(apt-cache show "libstd-rust-web-dev=$version" | grep -o -m1 'libstd-rust-web-[0-9][0-9.]*')"
    fi
    want=()
    for p in "${RUST_PACKAGES[@]}" "$libstd" rust-web-src; do want+=("$p=$version"); done
    say "downloading Debian's Rust $version (${want[*]%%=*})"
    rm -rf "$DEBS.part" && mkdir -p "$DEBS.part"
    # apt-get download runs as the invoking user here: root may write the cache directly.
    if ! (cd "$DEBS.part" && apt-get -qq -o APT::Sandbox::User=root download "${want[@]}"); then
        apt_update
        (cd "$DEBS.part" && apt-get -qq -o APT::Sandbox::User=root download "${want[@]}")
    fi
    rm -rf "$DEBS" && mv "$DEBS.part" "$DEBS" && touch "$DEBS/.complete"
fi

# The libraries the Rust binaries load (libllvm, libgit2, libcurl, ...) and the host C
# toolchain rustc expects, from the packages' Depends: fields (first of each alternative).
mapfile -t rust_deps < <(
    for deb in "$DEBS"/*.deb; do dpkg-deb -f "$deb" Depends; done |
        tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' |
        grep -v -e '^$' -e '^rustc-web$' -e '^cargo-web$' -e '^libstd-rust-web' | sort -u
)
install_packages "${rust_deps[@]}"

TC="$DEBS/root"
if [ ! -e "$DEBS/.unpacked" ]; then
    say "unpacking the toolchain into $TC"
    rm -rf "$TC" && mkdir -p "$TC"
    for deb in "$DEBS"/*.deb; do
        case "$deb" in
        */rust-web-src_*) ;;
        *) dpkg-deb -x "$deb" "$TC" ;;
        esac
    done
    # -Zbuild-std needs std's sources (library/, 69 of the package's 342 MB) and the
    # rustlib/src/rust link to them.
    dpkg-deb --fsys-tarfile "$DEBS"/rust-web-src_*.deb |
        tar -x -C "$TC" --wildcards './usr/src/rustc-*/library' './usr/lib/rustlib/src'
    touch "$DEBS/.unpacked"
fi
flock -u 9

export LD_LIBRARY_PATH="$TC/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
for bin in rustc cargo clippy-driver; do
    [ -x "$TC/usr/bin/$bin" ] || die "$TC/usr/bin/$bin is missing: remove $DEBS to fetch the toolchain again"
    if ldd "$TC/usr/bin/$bin" | grep -q 'not found'; then
        die "$bin cannot load: $(ldd "$TC/usr/bin/$bin" | grep 'not found' | tr -s ' \t\n' ' ')"
    fi
done

# ---------------------------------------------------------------------------------------------
# 2. Linker, winfsp-sys stand-in, cargo environment.

# rustc links gnullvm programs with a MinGW clang driver; Debian has clang and lld but no
# llvm-mingw, so a small driver puts clang in MinGW mode with lld over Debian's MinGW-w64
# runtime. std's unwinder asks for -lunwind (LLVM's libunwind); GCC's static libgcc_eh
# provides the same _Unwind_* interface for SEH on x86_64, so it stands in under that name.
gcc_eh="$(x86_64-w64-mingw32-gcc -print-file-name=libgcc_eh.a)"
[ -f "$gcc_eh" ] || die "libgcc_eh.a of gcc-mingw-w64-x86-64 not found"
ln -sf "$gcc_eh" "$OUT/tools/lib/libunwind.a"
cat >"$OUT/tools/gnullvm-cc" <<EOF
#!/bin/sh
# Linker driver for $TRIPLE, written by scripts/windows-cross.sh.
exec $CLANG --target=x86_64-w64-mingw32 -fuse-ld=lld -L"$OUT/tools/lib" "\$@"
EOF
chmod +x "$OUT/tools/gnullvm-cc"

# Clean environment for the private toolchain: no rustup proxies, no outside flags.
unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_TARGET \
    CARGO_ENCODED_RUSTFLAGS RUSTDOCFLAGS CARGO_TARGET_DIR CARGO_BUILD_RUSTFLAGS
CARGO="$TC/usr/bin/cargo"
export RUSTC="$TC/usr/bin/rustc" RUSTDOC="$TC/usr/bin/rustdoc"
# -Zbuild-std and -Zlockfile-path are unstable options; Debian's release toolchain allows
# them with RUSTC_BOOTSTRAP=1 (for this script's processes only).
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$OUT/build"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNULLVM_LINKER="$OUT/tools/gnullvm-cc"
# Warnings are errors in the workspace's crates (dependencies, std included, are built with
# --cap-lints by cargo). Clippy runs as the workspace crates' compiler, so one build both
# lints and produces the binaries the tests run; its lints are warnings, hence denied too.
export RUSTFLAGS="-Dwarnings"
export RUSTC_WORKSPACE_WRAPPER="$TC/usr/bin/clippy-driver"
# Line tables are enough for backtraces under Wine, and much less to compile and link.
export CARGO_PROFILE_DEV_DEBUG=line-tables-only
# No incremental caches (half a gigabyte): this tree is built whole, not edited and rebuilt.
export CARGO_INCREMENTAL=0
"$RUSTC" -V
"$CARGO" -V
"$RUSTC_WORKSPACE_WRAPPER" -V

# The repository's lock file is copied: patching winfsp-sys rewrites the copy, not the original.
# The patched copy is kept while the original is unchanged (no new resolution, no index query).
if ! cmp -s "$ROOT/Cargo.lock" "$OUT/Cargo.lock.orig" 2>/dev/null || [ ! -f "$OUT/Cargo.lock" ]; then
    cp "$ROOT/Cargo.lock" "$OUT/Cargo.lock.orig"
    cp "$ROOT/Cargo.lock" "$OUT/Cargo.lock"
fi

# winfsp-sys stand-in: the published crate's files with this repository's build script
# (scripts/windows-cross/winfsp-sys-build.rs says why) and a manifest without its build
# dependencies. Same name, version and features, so the project's manifests stay as they are.
sys_version="$(awk '/^name = "winfsp-sys"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
[ -n "$sys_version" ] || die "winfsp-sys is not in Cargo.lock"
find_sys() {
    find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -mindepth 2 -maxdepth 2 -type d \
        -name "winfsp-sys-$sys_version" 2>/dev/null | head -n 1 || true
}
sys_src="$(find_sys)"
if [ -z "$sys_src" ]; then
    # A Linux build never downloads the Windows-only crates. Fetched with a lock file copy of
    # its own: without the patch configured, fetch would drop it from the build's copy.
    mkdir -p "$OUT/fetch" && cp "$ROOT/Cargo.lock" "$OUT/fetch/Cargo.lock"
    (cd "$ROOT" && "$CARGO" fetch --quiet -Zlockfile-path --config "resolver.lockfile-path=\"$OUT/fetch/Cargo.lock\"")
    sys_src="$(find_sys)"
fi
[ -n "$sys_src" ] || die "winfsp-sys $sys_version is not in cargo's registry after cargo fetch"
SYS="$OUT/winfsp-sys"
mkdir -p "$SYS"
ln -sfn "$sys_src/src" "$SYS/src"
ln -sfn "$sys_src/winfsp" "$SYS/winfsp"
cp "$ROOT/scripts/windows-cross/winfsp-sys-build.rs" "$SYS/build.rs.new"
cmp -s "$SYS/build.rs.new" "$SYS/build.rs" 2>/dev/null || mv "$SYS/build.rs.new" "$SYS/build.rs"
rm -f "$SYS/build.rs.new"
cat >"$SYS/Cargo.toml.new" <<EOF
# Written by scripts/windows-cross.sh: winfsp-sys $sys_version without bindgen.
[package]
name = "winfsp-sys"
version = "$sys_version"
edition = "2021"
license = "GPL-3.0"
build = "build.rs"

[lib]
path = "src/lib.rs"

[features]
docsrs = []
system = []

[workspace]
EOF
cmp -s "$SYS/Cargo.toml.new" "$SYS/Cargo.toml" 2>/dev/null || mv "$SYS/Cargo.toml.new" "$SYS/Cargo.toml"
rm -f "$SYS/Cargo.toml.new"

CARGO_ARGS=(
    -Zbuild-std -Zlockfile-path
    --config "resolver.lockfile-path=\"$OUT/Cargo.lock\""
    --config "patch.crates-io.winfsp-sys.path=\"$SYS\""
    --target "$TRIPLE"
)
[ -n "${JOBS:-}" ] && CARGO_ARGS+=(-j "$JOBS")
pkgs() {
    local c
    for c in "$@"; do printf -- '-p\n%s\n' "$c"; done
}
mapfile -t pkg_args < <(pkgs "${CRATES[@]}")

# ---------------------------------------------------------------------------------------------
# 3. Build (compile, lint, link) for Windows.

say "building ${CRATES[*]} for $TRIPLE, all targets, warnings and clippy lints denied ($(elapsed))"
# (Cargo warns that the winfsp-sys patch "was not used": that is about std's own workspace,
# which -Zbuild-std resolves with the same configuration; the project's graph uses it.)
(cd "$ROOT" && "$CARGO" build "${CARGO_ARGS[@]}" "${pkg_args[@]}" --all-targets)
EXE="$CARGO_TARGET_DIR/$TRIPLE/debug/ntlinkfs.exe"
[ -f "$EXE" ] || die "the build produced no $EXE"

# ---------------------------------------------------------------------------------------------
# 4. Wine.

WINE=/usr/lib/wine/wine64
[ -x "$WINE" ] || die "$WINE is missing (Debian package wine64)"
export WINEPREFIX="$OUT/wine" WINEDEBUG=-all WINEARCH=win64
# No Mono or Gecko (their installers would be offered on first start); console programs only.
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
stop_wine() { /usr/lib/wine/wineserver -k 2>/dev/null || true; }
trap stop_wine EXIT
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    say "creating the Wine prefix $WINEPREFIX ($(elapsed))"
    "$WINE" wineboot --init >/dev/null 2>&1 || true
    /usr/lib/wine/wineserver -w
fi
sys32="$WINEPREFIX/drive_c/windows/system32"
[ -d "$sys32" ] || die "wineboot did not create $sys32"
stub_src="$ROOT/scripts/windows-cross/bcryptprimitives.c"
if [ ! -f "$OUT/tools/bcryptprimitives.dll" ] || [ "$stub_src" -nt "$OUT/tools/bcryptprimitives.dll" ]; then
    x86_64-w64-mingw32-gcc -O2 -shared -s -o "$OUT/tools/bcryptprimitives.dll" "$stub_src" -ladvapi32
fi
cp "$OUT/tools/bcryptprimitives.dll" "$sys32/bcryptprimitives.dll"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNULLVM_RUNNER="$WINE"

failed=()

# ---------------------------------------------------------------------------------------------
# 5. Every test binary of CRATES under Wine (doc tests too: cargo cross-compiles them and runs
#    them with the runner). Cargo's full output goes to the log; the binaries and their
#    `test result:` lines are printed (all of it when something fails).

say "running the tests of ${CRATES[*]} under Wine ($(elapsed))"
test_log="$OUT/logs/test.log"
# Bounded: a test stuck under Wine must not hold CI until its own limit.
status=0
(cd "$ROOT" && timeout 1800 "$CARGO" test "${CARGO_ARGS[@]}" "${pkg_args[@]}" --no-fail-fast) >"$test_log" 2>&1 ||
    status=$?
if [ "$status" -ne 0 ]; then
    cat "$test_log"
    failed+=("cargo test (exit $status)")
else
    grep -E '^ +(Running|Doc-tests) |^test result:' "$test_log" | sed 's/^ *//'
fi
if ! grep -q '^test result:' "$test_log"; then
    failed+=("cargo test ran no test binary")
fi

# ---------------------------------------------------------------------------------------------
# 6. The binary itself under Wine: help, the in-process conformance suite, and a mount that
#    must fail cleanly (no WinFsp driver under Wine) rather than crash.

say "ntlinkfs.exe under Wine ($(elapsed))"
if ! "$WINE" "$EXE" --help >"$OUT/logs/help.txt" 2>&1 || ! grep -q conformance "$OUT/logs/help.txt"; then
    cat "$OUT/logs/help.txt"
    failed+=("ntlinkfs.exe --help")
fi

conf_log="$OUT/logs/conformance-core.txt"
status=0
"$WINE" "$EXE" conformance --target core >"$conf_log" 2>"$OUT/logs/conformance-core.err" || status=$?
if [ "$status" -ne 0 ]; then
    cat "$conf_log" "$OUT/logs/conformance-core.err"
    failed+=("ntlinkfs.exe conformance --target core (exit $status)")
fi
summary="$(grep -E '^core: [0-9]+ pass' "$conf_log" || true)"
if [ -z "$summary" ]; then
    failed+=("ntlinkfs.exe conformance --target core printed no summary")
else
    echo "ntlinkfs.exe conformance --target core: $summary"
fi

status=0
timeout 120 "$WINE" "$EXE" mount N: >"$OUT/logs/mount.txt" 2>&1 || status=$?
if [ "$status" -eq 0 ] || [ "$status" -eq 124 ] || grep -q 'panicked' "$OUT/logs/mount.txt"; then
    cat "$OUT/logs/mount.txt"
    failed+=("ntlinkfs.exe mount N: without WinFsp must exit with an error, not $status or a panic")
else
    echo "ntlinkfs.exe mount N: without WinFsp fails cleanly (exit $status): $(head -n 1 "$OUT/logs/mount.txt")"
fi

if [ "${#failed[@]}" -gt 0 ]; then
    printf 'windows-cross: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
say "all passed in $(elapsed) (compiled and linked for $TRIPLE; tests and the conformance suite run under Wine)"
