//! Build script of the winfsp-sys stand-in that `scripts/windows-cross.sh` patches in, for its
//! cross build only. The published winfsp-sys 0.12 build script cannot run on Linux: with the
//! "system" feature it reads the Windows registry (and does not even compile off Windows),
//! without it it runs bindgen over <windows.h> (no Windows SDK here) and accepts MSVC targets
//! only. Everything a build needs is in the published crate already: pre-generated bindings
//! (`src/bindings.rs`, made for Windows' type sizes) and WinFsp's import libraries
//! (`winfsp/lib`). This script only points the compiler and the linker at them.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=build.rs");

    // src/lib.rs always includes $OUT_DIR/bindings.rs; with "docsrs" it also declares
    // `mod bindings` from src/, so the included file must then be empty (as upstream does).
    let bindings = out.join("bindings.rs");
    if env::var_os("CARGO_FEATURE_DOCSRS").is_some() {
        fs::write(&bindings, "").expect("write an empty bindings.rs");
    } else {
        fs::copy(manifest.join("src/bindings.rs"), &bindings).expect("copy src/bindings.rs");
    }

    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let lib = match arch.as_str() {
        "x86_64" => "winfsp-x64",
        "x86" => "winfsp-x86",
        "aarch64" => "winfsp-a64",
        other => panic!("winfsp-sys stand-in: WinFsp ships no import library for {other:?}"),
    };
    // Import library only: the crates using it (winfsp::build) add the delay-load flag, so
    // the DLL is needed when a mount starts, not when the program loads.
    println!("cargo:rustc-link-search=native={}", manifest.join("winfsp/lib").display());
    println!("cargo:rustc-link-lib=dylib={lib}");
}
