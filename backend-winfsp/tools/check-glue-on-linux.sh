#!/usr/bin/env bash
# Type-checks backend-winfsp's Windows glue (src/glue.rs) against the real winfsp 0.13 crate on
# a Linux machine, which cannot compile for Windows. It copies the published sources of winfsp,
# winfsp-sys (with its pre-generated bindings) and the windows crates into a scratch directory,
# removes their `cfg(windows)` gates (and the few uses of std::os::windows), and runs
# `cargo clippy` on a small crate that includes glue.rs. Nothing is linked or run: this proves
# that the glue matches the crate's real signatures and types, not that it works on Windows.
# Not part of the test suite (it copies ~120 MB); run it after changing glue.rs.
#
# Usage: backend-winfsp/tools/check-glue-on-linux.sh [SCRATCH_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/.." && pwd)"
work="${1:-${TMPDIR:-/tmp}/ntlinkfs-winfsp-glue-check}"
rm -rf "$work" && mkdir -p "$work/fetch/src" "$work/harness/src"

# 1. Download the exact crates (cargo fetch works for any target).
cat > "$work/fetch/Cargo.toml" <<'TOML'
[package]
name = "fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
winfsp = { version = "=0.13.2", default-features = false }
windows = { version = "=0.61.3", features = ["Win32_Foundation"] }
[workspace]
TOML
echo 'fn main() {}' > "$work/fetch/src/main.rs"
(cd "$work/fetch" && cargo fetch --quiet)
reg="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ | head -1)"
cp -r "$reg"winfsp-0.13.2+winfsp-2.1 "$work/winfsp"
cp -r "$reg"winfsp-sys-0.12.1+winfsp-2.1/src "$work/winfsp-sys-src"
cp -r "$reg"windows-0.61.3 "$work/windows"
cp -r "$reg"windows-core-0.61.2 "$work/windows-core"
cp -r "$reg"windows-strings-0.4.2 "$work/windows-strings"

# 2. winfsp-sys: the pre-generated bindings, with Windows' 32-bit LONG/ULONG.
mkdir -p "$work/winfsp-sys"
mv "$work/winfsp-sys-src" "$work/winfsp-sys/src"
sed -i -E 's/^pub type (ULONG|DWORD) = ::std::os::raw::c_ulong;/pub type \1 = u32;/;
           s/^pub type LONG = ::std::os::raw::c_long;/pub type LONG = i32;/;
           s/pub Data1: ::std::os::raw::c_ulong,/pub Data1: u32,/' "$work/winfsp-sys/src/bindings.rs"
cat > "$work/winfsp-sys/Cargo.toml" <<'TOML'
[package]
name = "winfsp-sys"
version = "0.12.1"
edition = "2021"
[features]
docsrs = []
TOML
cat > "$work/winfsp-sys/build.rs" <<'RS'
fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("bindings.rs"), "").unwrap();
}
RS

# 3. winfsp and the windows crates without their cfg(windows) gates.
sed -i 's/^#\[cfg(windows)\]\r\?$//; s/^#\[cfg(all(windows, feature = "notify"))\]/#[cfg(feature = "notify")]/;
        s/^#\[cfg(all(windows, not(feature = "notify")))\]/#[cfg(not(feature = "notify"))]/' "$work/winfsp/src/lib.rs"
cat >> "$work/winfsp/src/lib.rs" <<'RS'
/// Stand-in for std::os::windows::ffi::OsStrExt (type check only).
pub mod oswide {
    /// encode_wide
    pub trait OsStrExt {
        /// encode_wide
        fn encode_wide(&self) -> std::vec::IntoIter<u16>;
    }
    impl OsStrExt for std::ffi::OsStr {
        fn encode_wide(&self) -> std::vec::IntoIter<u16> {
            self.to_string_lossy().encode_utf16().collect::<Vec<_>>().into_iter()
        }
    }
}
RS
grep -rl "std::os::windows::ffi::OsStrExt" "$work/winfsp/src" |
    xargs sed -i 's/use std::os::windows::ffi::OsStrExt;/use crate::oswide::OsStrExt;/'
cat > "$work/winfsp/Cargo.toml" <<'TOML'
[package]
name = "winfsp"
version = "0.13.2"
edition = "2024"
[features]
build = []
delayload = ["build"]
notify = []
async-io = []
handle-util = []
system = []
debug = []
docsrs = []
windows-61 = []
[dependencies]
bytemuck = "1.13"
parking_lot = "0.12.4"
paste = "1"
static_assertions = "1.1"
thiserror = "2"
widestring = "1"
winfsp-sys = { path = "../winfsp-sys", features = ["docsrs"] }
windows = { version = "0.61.1", features = ["Win32_Foundation", "Win32_System_LibraryLoader", "Win32_Security", "Win32_Storage_FileSystem", "Win32_System_WindowsProgramming", "Win32_System_Console", "Win32_System_Threading", "Win32_System_ProcessStatus", "Wdk_Foundation"] }
TOML
sed -i 's/^#!\[cfg(windows)\]$//' "$work/windows/src/lib.rs"
grep -rl "cfg(windows)" "$work/windows-core/src" "$work/windows-strings/src" |
    xargs sed -i 's/#\[cfg(windows)\]//g; s/#!\[cfg(windows)\]//g'
sed -i 's/std::os::windows::ffi::OsStringExt::from_wide(self)/std::ffi::OsString::from(String::from_utf16_lossy(self))/;
        s/std::os::windows::ffi::OsStrExt::encode_wide(value)/value.to_string_lossy().encode_utf16().collect::<alloc::vec::Vec<u16>>().into_iter()/;
        s/std::os::windows::ffi::OsStrExt::encode_wide(other)/other.to_string_lossy().encode_utf16().collect::<alloc::vec::Vec<u16>>().into_iter()/' \
    "$work/windows-strings/src/hstring.rs"

# 4. A crate that includes glue.rs with the portable layer as `crate::`.
cat > "$work/harness/Cargo.toml" <<TOML
[package]
name = "harness"
version = "0.0.0"
edition = "2021"
[dependencies]
winfsp = { path = "../winfsp", features = ["delayload"] }
winfsp-sys = { path = "../winfsp-sys", features = ["docsrs"] }
windows = { version = "0.61", features = ["Win32_Foundation", "Win32_Security", "Win32_Storage_FileSystem", "Win32_System_IO"] }
vfs-core = { path = "$repo/vfs-core" }
backend-winfsp = { path = "$repo/backend-winfsp" }
[patch.crates-io]
windows = { path = "../windows" }
windows-core = { path = "../windows-core" }
windows-strings = { path = "../windows-strings" }
[workspace]
TOML
cat > "$work/harness/src/lib.rs" <<RS
//! Type-checks backend-winfsp's Windows glue against the real winfsp 0.13 API.
pub use backend_winfsp::{control, fs, info, status};
#[path = "$repo/backend-winfsp/src/glue.rs"]
pub mod glue;
/// WinFsp's fine-grained guard runs callbacks on several threads at once.
pub fn context_and_file_context_are_sync() {
    fn sync<T: Sync + Send>() {}
    sync::<glue::Context>();
    sync::<fs::OpenFile>();
}
RS
cd "$work/harness"
CARGO_TARGET_DIR="$work/target" cargo clippy --quiet -- -D warnings
echo "glue.rs type-checks against winfsp 0.13.2 (not compiled for Windows, not run)"
