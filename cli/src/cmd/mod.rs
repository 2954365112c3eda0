//! The subcommands: one module per subcommand, named as the subcommand (`image` serves `save`
//! and `dump`, which share the drive image). `ntlinkfs bench` is the `ntlinkfs-bench` crate.

pub mod conformance;
pub mod image;
pub mod link;
pub mod mount;
