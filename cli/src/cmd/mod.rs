//! The subcommands: one module per subcommand, named as the subcommand (`image` serves `save`
//! and `dump`, which share the drive image). `ntlinkfs bench` is the `ntlinkfs-bench` crate.
//! The Windows commands (`mklink`, `fsutil`, `attrib`, `du`) make their OS calls through
//! `crate::wincmd_sys` and report through `crate::wincmd_status`.

pub mod attrib;
pub mod conformance;
pub mod du;
pub mod fsutil;
pub mod image;
pub mod link;
pub mod mklink;
pub mod mount;
pub mod unmount;
