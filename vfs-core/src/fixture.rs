//! Fixtures: a drive described in TOML, built through the engine's public operations so that
//! every NTFS rule is enforced by the engine itself, and the reverse, a drive printed as a
//! fixture (hard links shown as links, never as copies).
//!
//! Use it like pyfakefs or Jimfs, with NTFS's rules, in a unit test that mounts nothing:
//!
//! ```
//! use vfs_core::Volume;
//!
//! let vol = Volume::from_fixture_str(r#"
//!     [volume]
//!     time = 2024-01-01T00:00:00Z          # every time not given below
//!
//!     [[dir]]
//!     path = "shared"
//!
//!     [[dir]]
//!     path = "app"
//!
//!     [[file]]
//!     path = "shared/config.ini"
//!     text = "[db]\nhost = localhost\n"
//!     links = ["app/config.ini"]           # a second name of the same file (A1)
//!     attributes = ["archive", "readonly"]
//!
//!     [[junction]]
//!     path = "app/data"
//!     target = 'C:\shared'
//! "#).unwrap();
//!
//! // Both names are one file: one FileId, two links.
//! let st = vol.stat_path(r"\APP\Config.INI", false).unwrap();
//! assert_eq!(st.links, 2);
//! assert_eq!(st.id, vol.stat_path(r"\shared\config.ini", false).unwrap().id);
//! // The junction leads to the shared directory.
//! assert_eq!(vol.read_file_path(r"\app\data\config.ini").unwrap(), b"[db]\nhost = localhost\n");
//! // And the drive prints back as a fixture, the link as a link.
//! let toml = vol.to_fixture().unwrap();
//! assert!(toml.contains(r#"links = ["app/config.ini"]"#), "{toml}");
//! ```
//!
//! # The format
//!
//! Every table but `[volume]` and `[root]` describes one entry; `path` is relative to the
//! drive's root, with `/` or `\` between names. Paths never go through a link: give the real
//! path. Parent directories are listed explicitly as `[[dir]]`.
//!
//! | table          | keys                                                                |
//! |----------------|---------------------------------------------------------------------|
//! | `[volume]`     | `drive_letter` ("C"), `case_sensitive`, `delete_semantics` ("posix" or "legacy"), `symlink_kind_rule` ("windows11" or "legacy"), `max_links`, `time` (default for every time) |
//! | `[root]`       | the root directory's `attributes`, times, `uid`/`gid`/`mode`, `case_sensitive` |
//! | `[[dir]]`      | `path`, `case_sensitive` (new subdirectories inherit it, A5), common keys |
//! | `[[file]]`     | `path`, one of `text` / `bytes` (array of 0–255) / `hex`, `size` (zeros past the data, allocating nothing: a sparse file), `[[file.extent]]` tables (`offset` and `text`/`bytes`/`hex`) for data further in, `links` (other names of the same file, A1), common keys |
//! | `[[hardlink]]` | `path` (the new name), `target` (an existing file) — the same as `links` |
//! | `[[symlink]]`  | `path`, `target` (as given to CreateSymbolicLinkW: relative `..\x`, absolute `C:\x`, root-relative `\x`, UNC), `directory` (a directory symlink), `links`, common keys |
//! | `[[junction]]` | `path`, `target` (absolute, as `mklink /J` takes it), common keys |
//! | `[[special]]`  | `path`, `kind` (`fifo`, `socket`, `char`, `block`), `device` (`[MAJOR, MINOR]`, for `char` and `block` only), `links`, common keys: a POSIX special file, stored as the reparse point Windows and WSL use (IO_REPARSE_TAG_LX_FIFO, AF_UNIX, LX_CHR, LX_BLK; layout in [`crate::reparse::SpecialFile`]) |
//! | `[[reparse]]`  | `path`, `buffer` (a whole REPARSE_DATA_BUFFER in hex, byte for byte), `directory`, `links`, file data keys as in `[[file]]` (written after the buffer is set), common keys |
//!
//! Common keys: `attributes` (a list of `readonly`, `hidden`, `system`, `archive`,
//! `temporary`, `offline`, `not_content_indexed`, `sparse`, `compressed`; given, it is the
//! whole set; absent, files get `archive` as on NTFS), `created`, `accessed`, `modified`,
//! `changed` (RFC 3339 date-times such as `2024-01-01T00:00:00Z`, quoted or not, or a FILETIME
//! as an integer or a string of digits), `uid`, `gid`, `mode` (POSIX view of the security,
//! e.g. `0o644`).
//!
//! A fixture that breaks an NTFS rule is refused with its line and the rule:
//! `tree.toml:12: junction "j": mount points need an empty directory (STATUS_NOT_A_DIRECTORY,
//! docs/NTFS-RULES.md A3)`. Fixtures do not carry security descriptors, extended attributes or
//! FileIds; images ([`crate::image`]) keep everything.

mod build;
mod dump;
mod parse;
mod write;

pub use dump::{extents_of, file_data_of, reparse_kind, HostKind, HostStat, HostTree};

use crate::types::*;
use crate::Volume;
use std::path::Path;

// ---------------------------------------------------------------------------------------
// The model

/// A parsed fixture: what to build, in the order it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixture {
    /// Name used in error messages (the file's path, or `<fixture>`).
    pub file: String,
    /// The `[volume]` table.
    pub volume: VolumeSettings,
    /// The `[root]` table.
    pub root: Meta,
    /// Every entry, in source order.
    pub entries: Vec<Entry>,
}

/// The `[volume]` table: options of the built volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSettings {
    /// `drive_letter`: the letter absolute link targets on this drive use.
    pub drive_letter: char,
    /// `case_sensitive`: the root is case-sensitive (inherited by new directories, A5).
    pub case_sensitive: bool,
    /// `delete_semantics` (A2).
    pub delete_semantics: DeleteSemantics,
    /// `symlink_kind_rule` (A4).
    pub symlink_kind_rule: SymlinkKindRule,
    /// `max_links` (A1: 1024 on NTFS).
    pub max_links: usize,
    /// `time`: every timestamp the fixture does not give. None = the time of building.
    pub time: Option<FileTime>,
}

impl Default for VolumeSettings {
    fn default() -> Self {
        let o = VolumeOptions::default();
        VolumeSettings {
            drive_letter: o.drive_letter,
            case_sensitive: o.case_sensitive,
            delete_semantics: o.delete_semantics,
            symlink_kind_rule: o.symlink_kind_rule,
            max_links: o.max_links,
            time: None,
        }
    }
}

/// Keys every entry may carry. None = the default (see [`default_attributes`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// The whole settable attribute set ([`attrs::SETTABLE`] bits).
    pub attributes: Option<u32>,
    /// CreationTime.
    pub created: Option<FileTime>,
    /// LastAccessTime.
    pub accessed: Option<FileTime>,
    /// LastWriteTime.
    pub modified: Option<FileTime>,
    /// ChangeTime.
    pub changed: Option<FileTime>,
    /// Owner.
    pub uid: Option<u32>,
    /// Group.
    pub gid: Option<u32>,
    /// Permission bits.
    pub mode: Option<u32>,
    /// Directories: FILE_CS_FLAG_CASE_SENSITIVE_DIR (None = inherited from the parent).
    pub case_sensitive: Option<bool>,
}

/// One entry of a fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path from the root, `/`-separated.
    pub path: String,
    /// Source line (0 = not from a file).
    pub line: usize,
    /// What it is.
    pub kind: EntryKind,
    /// Common keys.
    pub meta: Meta,
    /// Other names of the same file (`links`), with their lines.
    pub links: Vec<(String, usize)>,
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// `[[dir]]`.
    Dir,
    /// `[[file]]`: data ranges, and the size when it is not the end of the last range.
    File {
        /// `size`.
        size: Option<u64>,
        /// `text`/`bytes`/`hex` (offset 0) and `[[file.extent]]`.
        extents: Vec<Extent>,
    },
    /// `[[symlink]]`.
    Symlink {
        /// The target as given to CreateSymbolicLinkW.
        target: String,
        /// SYMBOLIC_LINK_FLAG_DIRECTORY.
        directory: bool,
    },
    /// `[[junction]]`.
    Junction {
        /// The absolute target.
        target: String,
        /// Always true in a valid fixture (A3); false asks for a junction on a file.
        directory: bool,
    },
    /// `[[reparse]]`: any reparse buffer, on a file that may also hold data.
    Reparse {
        /// The REPARSE_DATA_BUFFER.
        buffer: Vec<u8>,
        /// On a directory.
        directory: bool,
        /// `size`, as for a file.
        size: Option<u64>,
        /// Data, as for a file.
        extents: Vec<Extent>,
    },
    /// `[[special]]`: a FIFO, socket or device node (an empty file holding the reparse point
    /// of its kind, [`crate::reparse::SpecialFile`]).
    Special {
        /// What it is.
        special: crate::reparse::SpecialFile,
    },
    /// `[[hardlink]]`: `path` is a new name of `target`.
    HardLink {
        /// An existing file's path.
        target: String,
    },
}

/// File data at an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extent {
    /// Byte offset.
    pub offset: u64,
    /// The bytes.
    pub data: Vec<u8>,
}

/// A fixture that cannot be read or built, or a drive that cannot be printed as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file, if *line > 0 { format!(":{line}") } else { String::new() })]
pub struct FixtureError {
    /// The fixture's name.
    pub file: String,
    /// 1-based line, 0 when none applies.
    pub line: usize,
    /// What is wrong and which rule says so.
    pub message: String,
}

/// The attributes an entry of this kind gets when its fixture gives none: files ARCHIVE (set
/// by NTFS on create and write), directories nothing.
pub fn default_attributes(kind: &EntryKind) -> u32 {
    let is_dir = match kind {
        EntryKind::Dir => true,
        EntryKind::Symlink { directory, .. }
        | EntryKind::Junction { directory, .. }
        | EntryKind::Reparse { directory, .. } => *directory,
        EntryKind::File { .. } | EntryKind::HardLink { .. } | EntryKind::Special { .. } => false,
    };
    if is_dir {
        0
    } else {
        attrs::ARCHIVE
    }
}

const ATTRIBUTE_NAMES: &[(&str, u32)] = &[
    ("readonly", attrs::READONLY),
    ("hidden", attrs::HIDDEN),
    ("system", attrs::SYSTEM),
    ("archive", attrs::ARCHIVE),
    ("temporary", attrs::TEMPORARY),
    ("offline", attrs::OFFLINE),
    ("not_content_indexed", attrs::NOT_CONTENT_INDEXED),
    ("sparse", attrs::SPARSE_FILE),
    ("compressed", attrs::COMPRESSED),
];

/// Attribute names of a settable attribute set, in the order the fixture format lists them.
pub fn attribute_names(attributes: u32) -> Vec<&'static str> {
    ATTRIBUTE_NAMES
        .iter()
        .filter(|(_, bit)| attributes & bit != 0)
        .map(|(n, _)| *n)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Volume entry points

impl Volume {
    /// Builds a volume from fixture TOML (see [`crate::fixture`]).
    pub fn from_fixture_str(text: &str) -> Result<Volume, FixtureError> {
        Fixture::parse(text, "<fixture>")?.build()
    }

    /// Reads and builds a fixture file; errors name the file and line.
    pub fn from_fixture_file(path: &Path) -> Result<Volume, FixtureError> {
        Fixture::read(path)?.build()
    }

    /// The drive as fixture TOML: hard links as `links`, links with their targets, sparse
    /// files as `size` and extents. Fails only for a name a fixture cannot hold (an unpaired
    /// surrogate).
    pub fn to_fixture(&self) -> Result<String, FixtureError> {
        Ok(Fixture::from_volume(self)?.to_toml())
    }
}
