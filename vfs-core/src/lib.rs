//! # vfs-core — an in-memory NTFS volume
//!
//! The engine of ntlinkfs: an in-memory volume that follows NTFS's rules for hard links,
//! junctions and symbolic links (reparse points), case-insensitive but case-preserving names,
//! deletion and rename. It contains no OS code; the FUSE and WinFsp backends and the conformance
//! suite drive it through [`Volume`].
//!
//! Every rule cites its source (`docs/NTFS-RULES.md` rule ids A1–A7, Microsoft docs,
//! MS-FSA / MS-FSCC sections, or an observation recorded by the conformance suite).
//!
//! ```
//! use vfs_core::{Error, NewFile, Volume, VolumeOptions};
//!
//! let vol = Volume::new(VolumeOptions::default());
//! vol.create_path(r"\store", &NewFile::dir()).unwrap();
//! vol.write_file_path(r"\store\Readme.TXT", b"hello").unwrap();
//! // A1: a second name for the same file.
//! vol.hard_link_path(r"\store\readme.txt", r"\copy.txt").unwrap();
//! let st = vol.stat_path(r"\COPY.TXT", true).unwrap();
//! assert_eq!(st.links, 2);
//! assert_eq!(vol.read_file_path(r"\copy.txt").unwrap(), b"hello");
//! // A5: names are case-insensitive, so the same name in another case collides.
//! assert_eq!(vol.hard_link_path(r"\copy.txt", r"\STORE\README.txt"), Err(Error::NameCollision));
//! // A3: a junction, followed in the middle of a path.
//! vol.create_junction(r"\j", r"C:\store").unwrap();
//! assert_eq!(vol.read_file_path(r"\j\README.TXT").unwrap(), b"hello");
//! vol.check().unwrap();
//! ```

#![warn(missing_docs)]

pub mod data;
pub mod error;
pub mod fixture;
pub mod image;
pub mod name;
pub mod path;
pub mod pattern;
pub mod reparse;
pub mod snapshot;
pub mod target;
pub mod types;
mod volume;
pub mod wtf16;

pub use error::{Error, Result};
pub use name::Name;
pub use path::VolumePath;
pub use reparse::SpecialFile;
pub use types::*;
pub use volume::*;
