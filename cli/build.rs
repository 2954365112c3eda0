//! The Windows binary must delay-load WinFsp's DLL (winfsp crate, "Build-time requirements");
//! a library's build script cannot add link arguments to the final binary, so this one does.
//! It does nothing unless the target OS is Windows.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        winfsp::build::winfsp_link_delayload();
    }
}
