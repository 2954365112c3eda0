//! WinFsp's DLL must be delay-loaded (winfsp crate docs, "Build-time requirements"). The helper
//! panics on any other target, so it runs only when the target OS is Windows: Linux builds
//! compile the portable layer alone.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        winfsp::build::winfsp_link_delayload();
    }
}
