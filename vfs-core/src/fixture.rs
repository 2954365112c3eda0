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
//! ntfs-semantics A3)`. Fixtures do not carry security descriptors, extended attributes or
//! FileIds; images ([`crate::image`]) keep everything.

use crate::data::CHUNK_SIZE;
use crate::error::Error;
use crate::image::{SnapBody, SnapFile, Snapshot};
use crate::name::{narrow, upcase, validate_name, wide};
use crate::reparse::{self, ReparseBuffer, ReparseData};
use crate::types::*;
use crate::Volume;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use toml::Spanned;

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
        EntryKind::File { .. } | EntryKind::HardLink { .. } => false,
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

// ---------------------------------------------------------------------------------------
// Parsing

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFixture {
    volume: Option<RawVolume>,
    root: Option<RawRoot>,
    #[serde(default)]
    dir: Vec<RawEntry>,
    #[serde(default)]
    file: Vec<RawEntry>,
    #[serde(default)]
    hardlink: Vec<RawEntry>,
    #[serde(default)]
    symlink: Vec<RawEntry>,
    #[serde(default)]
    junction: Vec<RawEntry>,
    #[serde(default)]
    reparse: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVolume {
    drive_letter: Option<Spanned<String>>,
    case_sensitive: Option<bool>,
    delete_semantics: Option<Spanned<String>>,
    symlink_kind_rule: Option<Spanned<String>>,
    max_links: Option<Spanned<u64>>,
    time: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoot {
    attributes: Option<Spanned<Vec<Spanned<String>>>>,
    created: Option<Spanned<toml::Value>>,
    accessed: Option<Spanned<toml::Value>>,
    modified: Option<Spanned<toml::Value>>,
    changed: Option<Spanned<toml::Value>>,
    uid: Option<u32>,
    gid: Option<u32>,
    mode: Option<Spanned<u32>>,
    case_sensitive: Option<bool>,
}

/// Every key any entry may have; which belong to which table is checked afterwards, so the
/// error can say so.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    path: Spanned<String>,
    text: Option<Spanned<String>>,
    bytes: Option<Spanned<Vec<u8>>>,
    hex: Option<Spanned<String>>,
    size: Option<Spanned<u64>>,
    extent: Option<Vec<RawExtent>>,
    buffer: Option<Spanned<String>>,
    links: Option<Vec<Spanned<String>>>,
    target: Option<Spanned<String>>,
    directory: Option<bool>,
    case_sensitive: Option<bool>,
    attributes: Option<Spanned<Vec<Spanned<String>>>>,
    created: Option<Spanned<toml::Value>>,
    accessed: Option<Spanned<toml::Value>>,
    modified: Option<Spanned<toml::Value>>,
    changed: Option<Spanned<toml::Value>>,
    uid: Option<u32>,
    gid: Option<u32>,
    mode: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtent {
    offset: Spanned<u64>,
    text: Option<Spanned<String>>,
    bytes: Option<Spanned<Vec<u8>>>,
    hex: Option<Spanned<String>>,
}

struct Lines<'a> {
    file: &'a str,
    starts: Vec<usize>,
}

impl Lines<'_> {
    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
    fn err(&self, offset: usize, message: impl Into<String>) -> FixtureError {
        FixtureError {
            file: self.file.to_string(),
            line: self.line(offset),
            message: message.into(),
        }
    }
}

impl Fixture {
    /// Reads a fixture file.
    pub fn read(path: &Path) -> Result<Fixture, FixtureError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FixtureError {
            file: file.clone(),
            line: 0,
            message: format!("cannot read the fixture: {e}"),
        })?;
        Fixture::parse(&text, &file)
    }

    /// Parses fixture TOML; `file` names it in errors. Syntax, unknown keys, keys in the wrong
    /// table, bad paths and bad values are refused here; NTFS rules when building.
    pub fn parse(text: &str, file: &str) -> Result<Fixture, FixtureError> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let lines = Lines { file, starts };
        let raw: RawFixture = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| lines.line(s.start));
            FixtureError {
                file: file.to_string(),
                line,
                message: e.message().trim_end().to_string(),
            }
        })?;
        let mut fx = Fixture {
            file: file.to_string(),
            volume: VolumeSettings::default(),
            root: Meta::default(),
            entries: Vec::new(),
        };
        if let Some(v) = raw.volume {
            fx.volume = parse_volume(v, &lines)?;
        }
        if let Some(r) = raw.root {
            fx.root = Meta {
                attributes: parse_attributes(r.attributes.as_ref(), &lines)?,
                created: parse_time(r.created.as_ref(), &lines)?,
                accessed: parse_time(r.accessed.as_ref(), &lines)?,
                modified: parse_time(r.modified.as_ref(), &lines)?,
                changed: parse_time(r.changed.as_ref(), &lines)?,
                uid: r.uid,
                gid: r.gid,
                mode: parse_mode(r.mode.as_ref(), &lines)?,
                case_sensitive: r.case_sensitive,
            };
        }
        let tables = [
            ("dir", raw.dir),
            ("file", raw.file),
            ("hardlink", raw.hardlink),
            ("symlink", raw.symlink),
            ("junction", raw.junction),
            ("reparse", raw.reparse),
        ];
        let mut spanned = Vec::new();
        for (table, list) in tables {
            for e in list {
                let at = e.path.span().start;
                spanned.push((at, parse_entry(table, e, &lines)?));
            }
        }
        spanned.sort_by_key(|(at, _)| *at);
        fx.entries = spanned.into_iter().map(|(_, e)| e).collect();
        Ok(fx)
    }
}

fn parse_volume(v: RawVolume, lines: &Lines) -> Result<VolumeSettings, FixtureError> {
    let mut s = VolumeSettings::default();
    if let Some(d) = &v.drive_letter {
        let mut chars = d.get_ref().chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() => s.drive_letter = c.to_ascii_uppercase(),
            _ => {
                return Err(lines.err(
                    d.span().start,
                    format!("drive_letter {:?} is not one letter A-Z", d.get_ref()),
                ))
            }
        }
    }
    if let Some(cs) = v.case_sensitive {
        s.case_sensitive = cs;
    }
    if let Some(d) = &v.delete_semantics {
        s.delete_semantics = match d.get_ref().as_str() {
            "posix" => DeleteSemantics::Posix,
            "legacy" => DeleteSemantics::Legacy,
            other => {
                return Err(lines.err(
                    d.span().start,
                    format!("delete_semantics {other:?}: expected \"posix\" or \"legacy\""),
                ))
            }
        };
    }
    if let Some(d) = &v.symlink_kind_rule {
        s.symlink_kind_rule = match d.get_ref().as_str() {
            "windows11" => SymlinkKindRule::Windows11,
            "legacy" => SymlinkKindRule::Legacy,
            other => {
                return Err(lines.err(
                    d.span().start,
                    format!("symlink_kind_rule {other:?}: expected \"windows11\" or \"legacy\""),
                ))
            }
        };
    }
    if let Some(m) = &v.max_links {
        if *m.get_ref() == 0 {
            return Err(lines.err(m.span().start, "max_links must be at least 1"));
        }
        s.max_links = usize::try_from(*m.get_ref()).unwrap_or(usize::MAX);
    }
    s.time = parse_time(v.time.as_ref(), lines)?;
    Ok(s)
}

fn parse_entry(table: &str, e: RawEntry, lines: &Lines) -> Result<Entry, FixtureError> {
    let at = e.path.span().start;
    let line = lines.line(at);
    // Which keys each table takes (path always).
    let present: [(&str, bool); 11] = [
        ("text", e.text.is_some()),
        ("bytes", e.bytes.is_some()),
        ("hex", e.hex.is_some()),
        ("size", e.size.is_some()),
        ("extent", e.extent.is_some()),
        ("buffer", e.buffer.is_some()),
        ("links", e.links.is_some()),
        ("target", e.target.is_some()),
        ("directory", e.directory.is_some()),
        ("case_sensitive", e.case_sensitive.is_some()),
        (
            "attributes/times/uid/gid/mode",
            e.attributes.is_some()
                || e.created.is_some()
                || e.accessed.is_some()
                || e.modified.is_some()
                || e.changed.is_some()
                || e.uid.is_some()
                || e.gid.is_some()
                || e.mode.is_some(),
        ),
    ];
    let allowed: &[&str] = match table {
        "dir" => &["case_sensitive", "attributes/times/uid/gid/mode"],
        "file" => &[
            "text",
            "bytes",
            "hex",
            "size",
            "extent",
            "links",
            "attributes/times/uid/gid/mode",
        ],
        "hardlink" => &["target"],
        "symlink" => &[
            "target",
            "directory",
            "links",
            "case_sensitive",
            "attributes/times/uid/gid/mode",
        ],
        "junction" => &[
            "target",
            "directory",
            "case_sensitive",
            "attributes/times/uid/gid/mode",
        ],
        _ => &[
            "buffer",
            "text",
            "bytes",
            "hex",
            "size",
            "extent",
            "directory",
            "links",
            "case_sensitive",
            "attributes/times/uid/gid/mode",
        ],
    };
    if let Some((key, _)) = present
        .iter()
        .find(|(k, there)| *there && !allowed.contains(k))
    {
        return Err(lines.err(at, format!("[[{table}]] does not take `{key}`")));
    }
    let path = normalize_path(e.path.get_ref()).map_err(|m| lines.err(at, m))?;
    let meta = Meta {
        attributes: parse_attributes(e.attributes.as_ref(), lines)?,
        created: parse_time(e.created.as_ref(), lines)?,
        accessed: parse_time(e.accessed.as_ref(), lines)?,
        modified: parse_time(e.modified.as_ref(), lines)?,
        changed: parse_time(e.changed.as_ref(), lines)?,
        uid: e.uid,
        gid: e.gid,
        mode: parse_mode(e.mode.as_ref(), lines)?,
        case_sensitive: e.case_sensitive,
    };
    let mut links = Vec::new();
    for l in e.links.iter().flatten() {
        let p = normalize_path(l.get_ref()).map_err(|m| lines.err(l.span().start, m))?;
        links.push((p, lines.line(l.span().start)));
    }
    let target = |what: &str| -> Result<String, FixtureError> {
        e.target
            .as_ref()
            .map(|t| t.get_ref().clone())
            .ok_or_else(|| lines.err(at, format!("[[{table}]] needs a `target` ({what})")))
    };
    let directory = e.directory;
    let kind = match table {
        "dir" => EntryKind::Dir,
        "file" => EntryKind::File {
            size: e.size.as_ref().map(|s| *s.get_ref()),
            extents: file_data(&e, at, lines)?,
        },
        "hardlink" => EntryKind::HardLink {
            target: normalize_path(&target("the existing file it names")?)
                .map_err(|m| lines.err(at, format!("target: {m}")))?,
        },
        "symlink" => EntryKind::Symlink {
            target: target("what the link points to")?,
            directory: directory.unwrap_or(false),
        },
        "junction" => EntryKind::Junction {
            target: target("an absolute path such as 'C:\\dir'")?,
            directory: directory.unwrap_or(true),
        },
        _ => {
            let buf = e.buffer.as_ref().ok_or_else(|| {
                lines.err(at, "[[reparse]] needs `buffer`: the reparse buffer in hex")
            })?;
            EntryKind::Reparse {
                buffer: parse_hex(buf.get_ref()).map_err(|m| lines.err(buf.span().start, m))?,
                directory: directory.unwrap_or(false),
                size: e.size.as_ref().map(|s| *s.get_ref()),
                extents: file_data(&e, at, lines)?,
            }
        }
    };
    if matches!(
        kind,
        EntryKind::Symlink {
            directory: true,
            ..
        }
    ) && !links.is_empty()
    {
        // A1: directories, directory symlinks included, have one name.
        return Err(lines.err(
            at,
            "a directory symlink cannot have `links`: directories have exactly one name \
             (STATUS_FILE_IS_A_DIRECTORY, ntfs-semantics A1)",
        ));
    }
    Ok(Entry {
        path,
        line,
        kind,
        meta,
        links,
    })
}

/// `text`/`bytes`/`hex` at offset 0 and the `[[…extent]]` tables.
fn file_data(e: &RawEntry, at: usize, lines: &Lines) -> Result<Vec<Extent>, FixtureError> {
    let mut extents = Vec::new();
    if let Some(data) = content(&e.text, &e.bytes, &e.hex, at, lines)? {
        extents.push(Extent { offset: 0, data });
    }
    for x in e.extent.iter().flatten() {
        let xat = x.offset.span().start;
        let data = content(&x.text, &x.bytes, &x.hex, xat, lines)?
            .ok_or_else(|| lines.err(xat, "an extent needs `text`, `bytes` or `hex`"))?;
        extents.push(Extent {
            offset: *x.offset.get_ref(),
            data,
        });
    }
    Ok(extents)
}

fn content(
    text: &Option<Spanned<String>>,
    bytes: &Option<Spanned<Vec<u8>>>,
    hex: &Option<Spanned<String>>,
    at: usize,
    lines: &Lines,
) -> Result<Option<Vec<u8>>, FixtureError> {
    match (text, bytes, hex) {
        (None, None, None) => Ok(None),
        (Some(t), None, None) => Ok(Some(t.get_ref().as_bytes().to_vec())),
        (None, Some(b), None) => Ok(Some(b.get_ref().clone())),
        (None, None, Some(h)) => parse_hex(h.get_ref())
            .map(Some)
            .map_err(|m| lines.err(h.span().start, m)),
        _ => Err(lines.err(at, "give the data once: one of `text`, `bytes`, `hex`")),
    }
}

/// Hex digits, with any ASCII whitespace or `_` between them.
fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'_')
        .collect();
    if digits.len() & 1 == 1 {
        return Err("hex has an odd number of digits".into());
    }
    digits
        .chunks(2)
        .map(|p| {
            let d = |c: u8| (c as char).to_digit(16);
            match (d(p[0]), d(p[1])) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(format!(
                    "hex holds {:?}, not a hex digit",
                    String::from_utf8_lossy(p)
                )),
            }
        })
        .collect()
}

fn parse_attributes(
    a: Option<&Spanned<Vec<Spanned<String>>>>,
    lines: &Lines,
) -> Result<Option<u32>, FixtureError> {
    let Some(a) = a else { return Ok(None) };
    let mut bits = 0;
    for name in a.get_ref() {
        let n = name.get_ref().to_ascii_lowercase().replace('-', "_");
        let n = match n.as_str() {
            "read_only" => "readonly",
            "sparse_file" => "sparse",
            other => other,
        };
        match ATTRIBUTE_NAMES.iter().find(|(k, _)| *k == n) {
            Some((_, bit)) => bits |= bit,
            None => {
                let known: Vec<&str> = ATTRIBUTE_NAMES.iter().map(|(k, _)| *k).collect();
                let why = if matches!(n, "directory" | "reparse_point" | "normal") {
                    " (DIRECTORY and REPARSE_POINT belong to the file system, MS-FSA 2.1.5.14.2)"
                } else {
                    ""
                };
                return Err(lines.err(
                    name.span().start,
                    format!(
                        "attribute {:?} cannot be set{why}; settable attributes: {}",
                        name.get_ref(),
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(Some(bits))
}

fn parse_mode(m: Option<&Spanned<u32>>, lines: &Lines) -> Result<Option<u32>, FixtureError> {
    match m {
        Some(m) if *m.get_ref() > 0o7777 => Err(lines.err(
            m.span().start,
            format!("mode {:#o} has bits above 0o7777", m.get_ref()),
        )),
        Some(m) => Ok(Some(*m.get_ref())),
        None => Ok(None),
    }
}

fn parse_time(
    v: Option<&Spanned<toml::Value>>,
    lines: &Lines,
) -> Result<Option<FileTime>, FixtureError> {
    let Some(v) = v else { return Ok(None) };
    let at = v.span().start;
    let dt = match v.get_ref() {
        toml::Value::Datetime(dt) => *dt,
        // A FILETIME past TOML's integer range is written as a string of digits.
        toml::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            return s
                .parse::<u64>()
                .map(Some)
                .map_err(|_| lines.err(at, format!("FILETIME {s} does not fit in 64 bits")))
        }
        toml::Value::String(s) => s.parse::<toml::value::Datetime>().map_err(|e| {
            lines.err(
                at,
                format!("{s:?} is not an RFC 3339 date-time ({e}); e.g. 2024-01-01T00:00:00Z"),
            )
        })?,
        toml::Value::Integer(i) => {
            return u64::try_from(*i)
                .map(Some)
                .map_err(|_| lines.err(at, "a FILETIME is not negative"))
        }
        _ => {
            return Err(lines.err(
                at,
                "a time is an RFC 3339 date-time (2024-01-01T00:00:00Z) or an integer FILETIME",
            ))
        }
    };
    datetime_to_filetime(&dt)
        .map(Some)
        .map_err(|m| lines.err(at, m))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count from 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const TICKS_PER_SECOND: i128 = 10_000_000;

fn datetime_to_filetime(dt: &toml::value::Datetime) -> Result<FileTime, String> {
    let Some(date) = dt.date else {
        return Err("a time of day alone is not a timestamp: give a date too".into());
    };
    let (y, m, d) = (
        i64::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    );
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(format!("{date} is not a date"));
    }
    let mut seconds = i128::from(days_from_civil(y, m, d)) * 86_400;
    let mut ticks = 0i128;
    if let Some(t) = dt.time {
        let offset = match dt.offset {
            Some(toml::value::Offset::Z) => 0,
            Some(toml::value::Offset::Custom { minutes }) => i128::from(minutes),
            None => {
                return Err(format!(
                    "{dt} has no UTC offset: add Z (UTC) or +hh:mm so the time is one instant"
                ))
            }
        };
        seconds += i128::from(t.hour) * 3600
            + i128::from(t.minute) * 60
            + i128::from(t.second.unwrap_or(0))
            - offset * 60;
        ticks = i128::from(t.nanosecond.unwrap_or(0)) / 100;
    }
    let ft = (seconds * TICKS_PER_SECOND + ticks) + i128::from(FILETIME_UNIX_EPOCH);
    u64::try_from(ft).map_err(|_| format!("{dt} is before 1601, the FILETIME epoch"))
}

/// A FILETIME as an RFC 3339 UTC date-time, or None past year 9999.
fn filetime_to_rfc3339(ft: FileTime) -> Option<String> {
    let ticks = i128::from(ft) - i128::from(FILETIME_UNIX_EPOCH);
    let secs = ticks.div_euclid(TICKS_PER_SECOND);
    let frac = ticks.rem_euclid(TICKS_PER_SECOND);
    let days = i64::try_from(secs.div_euclid(86_400)).ok()?;
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(1..=9999).contains(&y) {
        return None;
    }
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if frac != 0 {
        let f = format!("{frac:07}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push('Z');
    Some(s)
}

/// Splits a fixture path into `/`-joined names, each valid on NTFS (A5).
fn normalize_path(p: &str) -> Result<String, String> {
    let comps: Vec<&str> = p.split(['/', '\\']).filter(|c| !c.is_empty()).collect();
    if comps.is_empty() {
        return Err(format!(
            "path {p:?} names the root; describe the root in [root]"
        ));
    }
    for c in &comps {
        if *c == "." || *c == ".." {
            return Err(format!(
                "path {p:?}: `.` and `..` are not names; paths start at the drive's root"
            ));
        }
        name_ok(c).map_err(|m| format!("path {p:?}: {m}"))?;
    }
    Ok(comps.join("/"))
}

fn name_ok(c: &str) -> Result<(), String> {
    match validate_name(&wide(c)) {
        Ok(()) => Ok(()),
        Err(Error::NameTooLong) => Err(format!(
            "name {c:?} is longer than 255 UTF-16 units (STATUS_OBJECT_NAME_INVALID, \
             ntfs-semantics A5)"
        )),
        Err(_) => {
            let bad = c
                .chars()
                .find(|&ch| ch == '\0' || ":*?\"<>|".contains(ch))
                .map(|ch| format!(" because of {ch:?}"))
                .unwrap_or_default();
            Err(format!(
                "name {c:?} is not valid on NTFS{bad}: names cannot hold \\ / : * ? \" < > | or \
                 NUL (STATUS_OBJECT_NAME_INVALID, ntfs-semantics A5)"
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Building

struct Builder<'a> {
    fx: &'a Fixture,
    vol: Volume,
}

fn parent_of(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

impl Builder<'_> {
    fn err(&self, line: usize, message: impl Into<String>) -> FixtureError {
        FixtureError {
            file: self.fx.file.clone(),
            line,
            message: message.into(),
        }
    }

    /// Looks a path up name by name, never following a link: fixture paths are real paths.
    fn find(&self, path: &str) -> Result<FileId, String> {
        let mut id = self.vol.root();
        let mut walked = String::new();
        for c in path.split('/').filter(|c| !c.is_empty()) {
            let st = self.vol.stat(id).map_err(|e| e.to_string())?;
            if !walked.is_empty() {
                if st.kind != FileKind::Directory {
                    return Err(format!("{walked:?} is a file, not a directory"));
                }
                if st.reparse_tag.is_some() {
                    return Err(format!(
                        "{walked:?} is a link; fixture paths never go through links: give the \
                         real path"
                    ));
                }
            }
            id = self
                .vol
                .lookup(id, &wide(c))
                .map_err(|_| format!("{:?} does not exist", join(&walked, c)))?;
            walked = join(&walked, c);
        }
        Ok(id)
    }

    /// The directory a new name goes in.
    fn parent(&self, path: &str) -> Result<(FileId, Vec<u16>), String> {
        let (dir, name) = parent_of(path);
        let id = self.find(dir).map_err(|m| {
            if m.ends_with("does not exist") {
                format!("its parent directory {dir:?} does not exist (list it as a [[dir]])")
            } else {
                format!("parent: {m}")
            }
        })?;
        let st = self.vol.stat(id).map_err(|e| e.to_string())?;
        if st.kind != FileKind::Directory {
            return Err(format!("its parent {dir:?} is a file, not a directory"));
        }
        if st.reparse_tag.is_some() {
            return Err(format!(
                "its parent {dir:?} is a link; fixture paths never go through links"
            ));
        }
        Ok((id, wide(name)))
    }

    /// Explains an engine refusal with the rule broken.
    fn rule(&self, e: Error, parent: FileId, name: &[u16]) -> String {
        match e {
            Error::NameCollision => {
                let existing = self
                    .vol
                    .lookup_entry(parent, name)
                    .map(|(_, d)| narrow(&d))
                    .unwrap_or_default();
                if existing.as_str() == narrow(name) {
                    "a file of this name is already listed (STATUS_OBJECT_NAME_COLLISION)".into()
                } else {
                    format!(
                        "it collides with {existing:?}: NTFS names are case-insensitive outside \
                         case-sensitive directories (STATUS_OBJECT_NAME_COLLISION, \
                         ntfs-semantics A5)"
                    )
                }
            }
            Error::TooManyLinks => format!(
                "a file has at most {} names (STATUS_TOO_MANY_LINKS, ntfs-semantics A1: \
                 CreateHardLinkW allows 1023 links beyond the first)",
                self.vol.options().max_links
            ),
            Error::FileIsADirectory => "directories cannot have hard links \
                 (STATUS_FILE_IS_A_DIRECTORY, ntfs-semantics A1)"
                .into(),
            Error::NotADirectory => "mount points need an empty directory \
                 (STATUS_NOT_A_DIRECTORY, ntfs-semantics A3)"
                .into(),
            Error::DirectoryNotEmpty => "a reparse point needs an empty directory \
                 (STATUS_DIRECTORY_NOT_EMPTY, ntfs-semantics A3)"
                .into(),
            Error::FileTooLarge => format!(
                "data past NTFS's maximum file size of {MAX_FILE_SIZE} bytes (STATUS_DISK_FULL)"
            ),
            other => other.to_string(),
        }
    }

    /// Creates the entry's file or directory, with its case-sensitive flag (A5) set at once so
    /// that what is created inside it later follows it.
    fn create(&self, e: &Entry, kind: FileKind) -> Result<FileId, FixtureError> {
        let what = describe(e);
        let (parent, name) = self
            .parent(&e.path)
            .map_err(|m| self.err(e.line, format!("{what}: {m}")))?;
        let new = NewFile {
            kind,
            attributes: 0,
            uid: e.meta.uid,
            gid: e.meta.gid,
            mode: e.meta.mode,
        };
        let id = self.vol.create(parent, &name, &new).map_err(|err| {
            self.err(e.line, format!("{what}: {}", self.rule(err, parent, &name)))
        })?;
        if let Some(cs) = e.meta.case_sensitive {
            self.vol.set_case_sensitive(id, cs).map_err(|err| {
                let why = match err {
                    Error::InvalidParameter => "case_sensitive applies to directories only \
                         (STATUS_INVALID_PARAMETER, ntfs-semantics A5)"
                        .to_string(),
                    other => other.to_string(),
                };
                self.err(e.line, format!("{what}: {why}"))
            })?;
        }
        Ok(id)
    }

    fn set_reparse(&self, e: &Entry, id: FileId, buffer: &[u8]) -> Result<(), FixtureError> {
        let (parent, name) = self.parent(&e.path).map_err(|m| self.err(e.line, m))?;
        self.vol.set_reparse_point(id, buffer).map_err(|err| {
            let what = describe(e);
            let on_file = if matches!(err, Error::NotADirectory) {
                " on a file"
            } else {
                ""
            };
            self.err(
                e.line,
                format!("{what}{on_file}: {}", self.rule(err, parent, &name)),
            )
        })
    }

    fn hard_link(&self, target: &str, new: &str, line: usize) -> Result<(), FixtureError> {
        let what = format!("hard link {new:?} to {target:?}");
        let id = self
            .find(target)
            .map_err(|m| self.err(line, format!("{what}: target {m}")))?;
        let (parent, name) = self
            .parent(new)
            .map_err(|m| self.err(line, format!("{what}: {m}")))?;
        self.vol
            .hard_link(id, parent, &name)
            .map_err(|err| self.err(line, format!("{what}: {}", self.rule(err, parent, &name))))
    }

    fn write_data(
        &self,
        e: &Entry,
        id: FileId,
        size: Option<u64>,
        extents: &[Extent],
    ) -> Result<(), FixtureError> {
        let what = describe(e);
        let mut end = 0u64;
        for x in extents {
            self.vol
                .write(id, x.offset, &x.data)
                .map_err(|err| self.err(e.line, format!("{what}: {}", self.rule(err, id, &[]))))?;
            end = end.max(x.offset.saturating_add(x.data.len() as u64));
        }
        if let Some(size) = size {
            if size < end {
                return Err(self.err(
                    e.line,
                    format!("{what}: size {size} is smaller than its data ({end} bytes)"),
                ));
            }
            self.vol
                .set_size(id, size)
                .map_err(|err| self.err(e.line, format!("{what}: {}", self.rule(err, id, &[]))))?;
        }
        Ok(())
    }

    fn apply_meta(&self, id: FileId, meta: &Meta, line: usize) -> Result<(), FixtureError> {
        let fail = |e: Error| self.err(line, e.to_string());
        if let Some(a) = meta.attributes {
            self.vol.set_attributes(id, a).map_err(fail)?;
        }
        let default = self.fx.volume.time;
        let t = SetTimes {
            creation: meta.created.or(default),
            last_access: meta.accessed.or(default),
            last_write: meta.modified.or(default),
            change: meta.changed.or(default),
        };
        if t != SetTimes::default() {
            self.vol.set_times(id, t).map_err(fail)?;
        }
        Ok(())
    }
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}/{b}")
    }
}

fn describe(e: &Entry) -> String {
    let kind = match &e.kind {
        EntryKind::Dir => "directory",
        EntryKind::File { .. } => "file",
        EntryKind::Symlink { .. } => "symlink",
        EntryKind::Junction { .. } => "junction",
        EntryKind::Reparse { .. } => "reparse point",
        EntryKind::HardLink { .. } => "hard link",
    };
    format!("{kind} {:?}", e.path)
}

impl Fixture {
    /// Builds the volume, entry by entry through the engine's operations: directories
    /// (shallowest first), then files, symlinks, junctions and reparse points, then hard
    /// links, then attributes and times. The first refusal stops the build and names the
    /// fixture line and the rule; no partial volume is returned.
    pub fn build(&self) -> Result<Volume, FixtureError> {
        self.build_with(&VolumeOptions::default())
    }

    /// [`Fixture::build`] on top of `base`: the fixture's `[volume]` table gives the drive
    /// letter, case sensitivity, delete semantics, symlink kind rule and link limit; `base`
    /// gives the rest — the owner and group of entries that name none (a mount's user),
    /// the drive map, the reparse point limit, and `read_only` (applied once the fixture is
    /// built).
    pub fn build_with(&self, base: &VolumeOptions) -> Result<Volume, FixtureError> {
        let vol = self.build_writable(base)?;
        if !base.read_only {
            return Ok(vol);
        }
        let mut snap = vol.snapshot();
        let mut o = snap.options();
        o.read_only = true;
        snap.set_options(&o);
        Volume::from_snapshot(snap).map_err(|e| FixtureError {
            file: self.file.clone(),
            line: 0,
            message: e.to_string(),
        })
    }

    fn build_writable(&self, base: &VolumeOptions) -> Result<Volume, FixtureError> {
        let v = &self.volume;
        let opts = VolumeOptions {
            drive_letter: v.drive_letter,
            case_sensitive: v.case_sensitive,
            delete_semantics: v.delete_semantics,
            symlink_kind_rule: v.symlink_kind_rule,
            max_links: v.max_links,
            read_only: false,
            ..base.clone()
        };
        let b = Builder {
            fx: self,
            vol: Volume::new(opts),
        };
        let root = b.vol.root();
        let fail0 = |e: Error| b.err(0, format!("[root]: {e}"));
        if let Some(cs) = self.root.case_sensitive {
            b.vol.set_case_sensitive(root, cs).map_err(fail0)?;
        }
        if self.root.uid.is_some() || self.root.gid.is_some() || self.root.mode.is_some() {
            b.vol
                .set_owner_mode(root, self.root.uid, self.root.gid, self.root.mode)
                .map_err(fail0)?;
        }
        let mut ids: Vec<Option<FileId>> = vec![None; self.entries.len()];
        // Directories, parents first.
        let mut dirs: Vec<usize> = (0..self.entries.len())
            .filter(|&i| self.entries[i].kind == EntryKind::Dir)
            .collect();
        dirs.sort_by_key(|&i| self.entries[i].path.split('/').count());
        for i in dirs {
            let e = &self.entries[i];
            ids[i] = Some(b.create(e, FileKind::Directory)?);
        }
        // Files and links' own entries.
        let drive = self.volume.drive_letter;
        for (i, e) in self.entries.iter().enumerate() {
            let what = describe(e);
            let id = match &e.kind {
                EntryKind::Dir | EntryKind::HardLink { .. } => continue,
                EntryKind::File { size, extents } => {
                    let id = b.create(e, FileKind::File)?;
                    b.write_data(e, id, *size, extents)?;
                    id
                }
                EntryKind::Symlink { target, directory } => {
                    // CreateSymbolicLinkW's layout (A4); the codec says why a target is refused.
                    let rp = reparse::symlink_for_target(&wide(target), drive).map_err(|r| {
                        b.err(
                            e.line,
                            format!(
                                "{what} target {target:?}: {} (STATUS_IO_REPARSE_DATA_INVALID, \
                                 ntfs-semantics A4)",
                                r.0
                            ),
                        )
                    })?;
                    let kind = if *directory {
                        FileKind::Directory
                    } else {
                        FileKind::File
                    };
                    let id = b.create(e, kind)?;
                    b.set_reparse(e, id, rp.as_bytes())?;
                    id
                }
                EntryKind::Junction { target, directory } => {
                    let rp = reparse::junction_for_target(&wide(target), drive).map_err(|r| {
                        b.err(
                            e.line,
                            format!(
                                "{what} target {target:?}: {} (STATUS_IO_REPARSE_DATA_INVALID, \
                                 ntfs-semantics A3)",
                                r.0
                            ),
                        )
                    })?;
                    let kind = if *directory {
                        FileKind::Directory
                    } else {
                        FileKind::File
                    };
                    let id = b.create(e, kind)?;
                    b.set_reparse(e, id, rp.as_bytes())?;
                    id
                }
                EntryKind::Reparse {
                    buffer,
                    directory,
                    size,
                    extents,
                } => {
                    ReparseBuffer::parse(buffer).map_err(|r| {
                        b.err(
                            e.line,
                            format!("{what}: {r} (STATUS_IO_REPARSE_DATA_INVALID, MS-FSCC 2.3.82)"),
                        )
                    })?;
                    let kind = if *directory {
                        FileKind::Directory
                    } else {
                        FileKind::File
                    };
                    let id = b.create(e, kind)?;
                    b.set_reparse(e, id, buffer)?;
                    // Data after the buffer: FSCTL_SET_REPARSE_POINT refuses a symlink on a
                    // file that holds data, but a drive can hold one written afterwards.
                    if !*directory {
                        b.write_data(e, id, *size, extents)?;
                    } else if size.is_some() || !extents.is_empty() {
                        return Err(b.err(e.line, format!("{what}: a directory holds no data")));
                    }
                    id
                }
            };
            ids[i] = Some(id);
        }
        // Hard links (A1).
        for e in &self.entries {
            if let EntryKind::HardLink { target } = &e.kind {
                b.hard_link(target, &e.path, e.line)?;
            }
            for (l, line) in &e.links {
                b.hard_link(&e.path, l, *line)?;
            }
        }
        // Attributes and times last: building changes the times of every parent.
        for (e, id) in self.entries.iter().zip(&ids) {
            if let Some(id) = id {
                b.apply_meta(*id, &e.meta, e.line)?;
            }
        }
        b.apply_meta(root, &self.root, 0)?;
        b.vol
            .check()
            .map_err(|c| b.err(0, format!("the built volume is inconsistent: {c}")))?;
        Ok(b.vol)
    }
}

// ---------------------------------------------------------------------------------------
// Dumping

impl Fixture {
    /// Describes a volume as a fixture: one entry per file at its first name in tree order
    /// (names in NTFS collation order), its other names as `links`; symlinks and junctions
    /// with their targets when the buffer is the one CreateSymbolicLinkW / `mklink /J` would
    /// write for that target, else as a raw `[[reparse]]`; the most common timestamp becomes
    /// `[volume] time`.
    pub fn from_volume(vol: &Volume) -> Result<Fixture, FixtureError> {
        Fixture::from_snapshot(&vol.snapshot())
    }

    /// [`Fixture::from_volume`] for a snapshot.
    pub fn from_snapshot(s: &Snapshot) -> Result<Fixture, FixtureError> {
        let opts = s.options();
        let err = |m: String| FixtureError {
            file: "<volume>".into(),
            line: 0,
            message: m,
        };
        let by_id: HashMap<u64, &SnapFile> = s.files.iter().map(|f| (f.id, f)).collect();
        // Children of each directory in collation order: (canonical, display) sorted.
        let mut children: HashMap<u64, Vec<Child>> = HashMap::new();
        for f in &s.files {
            for l in &f.links {
                children
                    .entry(l.parent)
                    .or_default()
                    .push((upcase(&l.name), l.name.clone(), f.id));
            }
        }
        for c in children.values_mut() {
            c.sort();
        }
        let mut paths: HashMap<(u64, Vec<u16>), String> = HashMap::new();
        let mut fx = Fixture {
            file: "<volume>".into(),
            volume: VolumeSettings {
                drive_letter: opts.drive_letter,
                case_sensitive: opts.case_sensitive,
                delete_semantics: opts.delete_semantics,
                symlink_kind_rule: opts.symlink_kind_rule,
                max_links: opts.max_links,
                time: None,
            },
            root: Meta::default(),
            entries: Vec::new(),
        };
        let root = by_id
            .get(&s.root)
            .ok_or_else(|| err("the root is missing".into()))?;
        if root.reparse.is_some() {
            return Err(err(
                "the root directory is a reparse point; a fixture cannot describe that (an image \
                 can)"
                    .into(),
            ));
        }
        let root_cs = matches!(
            root.body,
            SnapBody::Dir {
                case_sensitive: true
            }
        );
        fx.root = meta_of(root, &opts, attrs::HIDDEN | attrs::SYSTEM, 0o755);
        if root_cs != opts.case_sensitive {
            fx.root.case_sensitive = Some(root_cs);
        }
        // Depth-first, so a directory comes before what it holds.
        let mut stack: Vec<(u64, String, bool)> = vec![(s.root, String::new(), root_cs)];
        let mut order: Vec<(u64, String, bool)> = Vec::new();
        while let Some((dir, path, parent_cs)) = stack.pop() {
            let own_cs = match by_id.get(&dir).map(|f| &f.body) {
                Some(SnapBody::Dir { case_sensitive }) => *case_sensitive,
                _ => parent_cs,
            };
            for (_, name, id) in children.get(&dir).into_iter().flatten().rev() {
                let n = String::from_utf16(name).map_err(|_| {
                    err(format!(
                        "a name in {path:?} holds an unpaired surrogate ({:?}); fixtures are \
                         UTF-8 and cannot hold it (an image can)",
                        narrow(name)
                    ))
                })?;
                let p = join(&path, &n);
                paths.insert((dir, name.clone()), p.clone());
                stack.push((*id, p, own_cs));
            }
            if dir != s.root {
                order.push((dir, path, parent_cs));
            }
        }
        // `stack` pushes children reversed, so `order` is preorder with the parent's flag.
        for (id, path, parent_cs) in order {
            let f = by_id[&id];
            // A file with several names is described at its first name (the one
            // FindFirstFileNameW returns first, A1); the others become `links` in their order.
            let first = f
                .links
                .first()
                .and_then(|l| paths.get(&(l.parent, l.name.clone())));
            if first.is_some_and(|p| *p != path) {
                continue;
            }
            let is_dir = matches!(f.body, SnapBody::Dir { .. });
            let kind = entry_kind(f, is_dir, opts.drive_letter);
            let default_mode = if is_dir { 0o755 } else { 0o644 };
            let mut meta = meta_of(f, &opts, default_attributes(&kind), default_mode);
            if let SnapBody::Dir { case_sensitive } = f.body {
                if case_sensitive != parent_cs {
                    meta.case_sensitive = Some(case_sensitive);
                }
            }
            let links = f
                .links
                .iter()
                .filter_map(|l| paths.get(&(l.parent, l.name.clone())))
                .filter(|p| **p != path)
                .map(|p| (p.clone(), 0))
                .collect();
            fx.entries.push(Entry {
                path,
                line: 0,
                kind,
                meta,
                links,
            });
        }
        fx.factor_default_time();
        Ok(fx)
    }

    /// Makes the most common timestamp `[volume] time` and drops it from every entry.
    pub fn factor_default_time(&mut self) {
        let mut count: BTreeMap<FileTime, usize> = BTreeMap::new();
        if let Some(t) = self.volume.time {
            *count.entry(t).or_default() += 1;
        }
        let metas = std::iter::once(&self.root).chain(self.entries.iter().map(|e| &e.meta));
        for m in metas {
            for t in [m.created, m.accessed, m.modified, m.changed]
                .into_iter()
                .flatten()
            {
                *count.entry(t).or_default() += 1;
            }
        }
        let Some((&best, _)) = count
            .iter()
            .max_by_key(|(t, n)| (**n, std::cmp::Reverse(**t)))
        else {
            return;
        };
        let default = self.volume.time.unwrap_or(best);
        // Times an entry does not give become the default, so giving none is only right where
        // the fixture said nothing and a default exists (or the value equals it).
        self.volume.time = Some(default);
        let metas =
            std::iter::once(&mut self.root).chain(self.entries.iter_mut().map(|e| &mut e.meta));
        for m in metas {
            for t in [
                &mut m.created,
                &mut m.accessed,
                &mut m.modified,
                &mut m.changed,
            ] {
                if *t == Some(default) {
                    *t = None;
                }
            }
        }
    }
}

/// A directory entry for the walk: (canonical name, display name, file id).
type Child = (Vec<u16>, Vec<u16>, u64);

fn meta_of(f: &SnapFile, opts: &VolumeOptions, default_attrs: u32, default_mode: u32) -> Meta {
    let a = f.attributes & attrs::SETTABLE;
    Meta {
        attributes: (a != default_attrs).then_some(a),
        created: Some(f.times[0]),
        accessed: Some(f.times[1]),
        modified: Some(f.times[2]),
        changed: Some(f.times[3]),
        uid: (f.uid != opts.default_uid).then_some(f.uid),
        gid: (f.gid != opts.default_gid).then_some(f.gid),
        mode: (f.mode != default_mode).then_some(f.mode),
        case_sensitive: None,
    }
}

fn entry_kind(f: &SnapFile, is_dir: bool, drive: char) -> EntryKind {
    let (size, extents) = match &f.body {
        SnapBody::File { size, chunks } => {
            file_data_of(*size, chunks.iter().map(|c| (c.index, c.data.0.as_slice())))
        }
        SnapBody::Dir { .. } => (None, Vec::new()),
    };
    match (&f.reparse, &f.body) {
        (Some(buf), _) => reparse_kind(&buf.0, is_dir, drive, size, extents),
        (None, SnapBody::Dir { .. }) => EntryKind::Dir,
        (None, SnapBody::File { .. }) => EntryKind::File { size, extents },
    }
}

/// The entry for a reparse point: `[[symlink]]` or `[[junction]]` with its target when the
/// buffer is exactly what CreateSymbolicLinkW / `mklink /J` write for that target on drive
/// `drive` (A3, A4), else a byte-for-byte `[[reparse]]` (with the file's data, if any).
pub fn reparse_kind(
    buffer: &[u8],
    directory: bool,
    drive: char,
    size: Option<u64>,
    extents: Vec<Extent>,
) -> EntryKind {
    let plain = size.is_none() && extents.is_empty();
    if let (Ok(rp), true) = (ReparseBuffer::parse(buffer), plain) {
        // Use the target form only when rebuilding from it gives the same bytes.
        let same = |r: Result<ReparseBuffer, reparse::InvalidReparseData>| {
            r.is_ok_and(|r| r.as_bytes() == buffer)
        };
        match rp.data() {
            ReparseData::Symlink {
                substitute_name,
                print_name,
                ..
            } => {
                for t in [print_name, substitute_name] {
                    if let Ok(target) = String::from_utf16(t) {
                        if same(reparse::symlink_for_target(t, drive)) {
                            return EntryKind::Symlink { target, directory };
                        }
                    }
                }
            }
            ReparseData::MountPoint {
                substitute_name,
                print_name,
            } if directory => {
                for t in [print_name, substitute_name] {
                    if let Ok(target) = String::from_utf16(t) {
                        if same(reparse::junction_for_target(t, drive)) {
                            return EntryKind::Junction {
                                target,
                                directory: true,
                            };
                        }
                    }
                }
            }
            _ => {}
        }
    }
    EntryKind::Reparse {
        buffer: buffer.to_vec(),
        directory,
        size,
        extents,
    }
}

/// A file's `size` (None when it is the end of the data) and extents, from its allocated
/// chunks in order (chunk index, bytes; trailing zeros may be cut). A file of at most one
/// chunk that holds data is given whole.
pub fn file_data_of<'a>(
    size: u64,
    chunks: impl Iterator<Item = (u64, &'a [u8])>,
) -> (Option<u64>, Vec<Extent>) {
    let mut extents = extents_of(chunks);
    if size <= CHUNK_SIZE as u64 && !extents.is_empty() {
        // A small file with data reads best whole, zeros included.
        let mut data = vec![0u8; size as usize];
        for x in &extents {
            let at = x.offset as usize;
            data[at..at + x.data.len()].copy_from_slice(&x.data);
        }
        extents = vec![Extent { offset: 0, data }];
    }
    let end = extents.last().map_or(0, |x| x.offset + x.data.len() as u64);
    ((size != end).then_some(size), extents)
}

/// Data ranges from allocated chunks (each possibly shorter than a chunk: trailing zeros
/// cut): runs of adjacent chunks become one extent, zeros trimmed at both ends.
pub fn extents_of<'a>(chunks: impl Iterator<Item = (u64, &'a [u8])>) -> Vec<Extent> {
    const CHUNK: u64 = CHUNK_SIZE as u64;
    let mut out: Vec<Extent> = Vec::new();
    let mut next_index: Option<u64> = None;
    for (index, data) in chunks {
        if data.iter().all(|&b| b == 0) {
            next_index = None;
            continue;
        }
        match (out.last_mut(), next_index) {
            (Some(x), Some(n)) if n == index => {
                // Pad the previous chunk's cut zeros back.
                let want = index * CHUNK - x.offset;
                x.data.resize(want as usize, 0);
                x.data.extend_from_slice(data);
            }
            _ => out.push(Extent {
                offset: index * CHUNK,
                data: data.to_vec(),
            }),
        }
        next_index = Some(index + 1);
    }
    for x in &mut out {
        let lead = x.data.iter().position(|&b| b != 0).unwrap_or(0);
        x.data.drain(..lead);
        x.offset += lead as u64;
        let end = x.data.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        x.data.truncate(end);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Writing TOML

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// An RFC 3339 date-time; past year 9999 the FILETIME itself, as an integer, or as a string
/// of digits past TOML's 63-bit integers.
fn toml_time(t: FileTime) -> String {
    match filetime_to_rfc3339(t) {
        Some(s) => s,
        None if i64::try_from(t).is_ok() => t.to_string(),
        None => format!("\"{t}\""),
    }
}

/// Text that reads well as a TOML string: UTF-8 with no control characters but tab and
/// newlines.
fn as_text(data: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(data).ok()?;
    s.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
        .then_some(s)
}

fn data_key(data: &[u8]) -> String {
    match as_text(data) {
        Some(s) => format!("text = {}", toml_str(s)),
        None => {
            let mut h = String::with_capacity(data.len() * 2);
            for b in data {
                let _ = write!(h, "{b:02x}");
            }
            format!("hex = \"{h}\"")
        }
    }
}

impl Fixture {
    /// The fixture as TOML: `[volume]`, `[root]`, then one table per entry in order, keys in
    /// a fixed order, defaults left out. Parsing the result gives this fixture back (lines
    /// aside).
    pub fn to_toml(&self) -> String {
        let mut o = String::new();
        let v = &self.volume;
        o.push_str("[volume]\n");
        let _ = writeln!(o, "drive_letter = \"{}\"", v.drive_letter);
        if v.case_sensitive {
            o.push_str("case_sensitive = true\n");
        }
        if v.delete_semantics == DeleteSemantics::Legacy {
            o.push_str("delete_semantics = \"legacy\"\n");
        }
        if v.symlink_kind_rule == SymlinkKindRule::Legacy {
            o.push_str("symlink_kind_rule = \"legacy\"\n");
        }
        if v.max_links != MAX_LINKS {
            let _ = writeln!(o, "max_links = {}", v.max_links);
        }
        if let Some(t) = v.time {
            let _ = writeln!(o, "time = {}", toml_time(t));
        }
        if self.root != Meta::default() {
            o.push_str("\n[root]\n");
            write_meta(&mut o, &self.root);
        }
        for e in &self.entries {
            let table = match e.kind {
                EntryKind::Dir => "dir",
                EntryKind::File { .. } => "file",
                EntryKind::Symlink { .. } => "symlink",
                EntryKind::Junction { .. } => "junction",
                EntryKind::Reparse { .. } => "reparse",
                EntryKind::HardLink { .. } => "hardlink",
            };
            let _ = write!(o, "\n[[{table}]]\npath = {}\n", toml_str(&e.path));
            let mut extents: &[Extent] = &[];
            let data = |o: &mut String, size: &Option<u64>, x: &'_ [Extent]| -> usize {
                let mut skip = 0;
                if let [first, ..] = x {
                    if first.offset == 0 {
                        let _ = writeln!(o, "{}", data_key(&first.data));
                        skip = 1;
                    }
                }
                if let Some(s) = size {
                    let _ = writeln!(o, "size = {s}");
                }
                skip
            };
            match &e.kind {
                EntryKind::Dir => {}
                EntryKind::File { size, extents: x } => {
                    extents = &x[data(&mut o, size, x)..];
                }
                EntryKind::Symlink { target, directory } => {
                    let _ = writeln!(o, "target = {}", toml_str(target));
                    if *directory {
                        o.push_str("directory = true\n");
                    }
                }
                EntryKind::Junction { target, directory } => {
                    let _ = writeln!(o, "target = {}", toml_str(target));
                    if !*directory {
                        o.push_str("directory = false\n");
                    }
                }
                EntryKind::Reparse {
                    buffer,
                    directory,
                    size,
                    extents: x,
                } => {
                    let mut h = String::new();
                    for b in buffer {
                        let _ = write!(h, "{b:02x}");
                    }
                    let _ = writeln!(o, "buffer = \"{h}\"");
                    if *directory {
                        o.push_str("directory = true\n");
                    }
                    extents = &x[data(&mut o, size, x)..];
                }
                EntryKind::HardLink { target } => {
                    let _ = writeln!(o, "target = {}", toml_str(target));
                }
            }
            match e.links.as_slice() {
                [] => {}
                [(one, _)] => {
                    let _ = writeln!(o, "links = [{}]", toml_str(one));
                }
                many => {
                    o.push_str("links = [\n");
                    for (p, _) in many {
                        let _ = writeln!(o, "  {},", toml_str(p));
                    }
                    o.push_str("]\n");
                }
            }
            write_meta(&mut o, &e.meta);
            for x in extents {
                let _ = write!(
                    o,
                    "\n[[{table}.extent]]\noffset = {}\n{}\n",
                    x.offset,
                    data_key(&x.data)
                );
            }
        }
        o
    }
}

fn write_meta(o: &mut String, m: &Meta) {
    if let Some(cs) = m.case_sensitive {
        let _ = writeln!(o, "case_sensitive = {cs}");
    }
    if let Some(a) = m.attributes {
        let names: Vec<String> = attribute_names(a).iter().map(|n| toml_str(n)).collect();
        let _ = writeln!(o, "attributes = [{}]", names.join(", "));
    }
    for (k, t) in [
        ("created", m.created),
        ("accessed", m.accessed),
        ("modified", m.modified),
        ("changed", m.changed),
    ] {
        if let Some(t) = t {
            let _ = writeln!(o, "{k} = {}", toml_time(t));
        }
    }
    if let Some(u) = m.uid {
        let _ = writeln!(o, "uid = {u}");
    }
    if let Some(g) = m.gid {
        let _ = writeln!(o, "gid = {g}");
    }
    if let Some(md) = m.mode {
        let _ = writeln!(o, "mode = 0o{md:o}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_day_conversions_agree() {
        for z in [-719_468i64, -1, 0, 1, 10_957, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "{z}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn times_round_trip_through_rfc3339() {
        for ft in [
            0u64,
            FILETIME_UNIX_EPOCH,
            FILETIME_UNIX_EPOCH + 1,
            133_497_216_001_234_567,
        ] {
            let s = filetime_to_rfc3339(ft).unwrap();
            let dt: toml::value::Datetime = s.parse().unwrap();
            assert_eq!(datetime_to_filetime(&dt).unwrap(), ft, "{s}");
        }
        assert_eq!(
            filetime_to_rfc3339(FILETIME_UNIX_EPOCH).unwrap(),
            "1970-01-01T00:00:00Z"
        );
        assert!(filetime_to_rfc3339(u64::MAX).is_none());
    }

    #[test]
    fn offsets_are_applied() {
        let a: toml::value::Datetime = "2024-01-01T02:00:00+02:00".parse().unwrap();
        let b: toml::value::Datetime = "2024-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(datetime_to_filetime(&a), datetime_to_filetime(&b));
    }

    #[test]
    fn extents_merge_adjacent_chunks_and_trim_zeros() {
        let c = CHUNK_SIZE as u64;
        let mut a = vec![0u8; 10];
        a.push(1);
        let b = vec![2u8; 3];
        let x = extents_of([(0u64, &a[..]), (1, &b[..]), (5, &b[..]), (6, &[][..])].into_iter());
        assert_eq!(x.len(), 2);
        assert_eq!(x[0].offset, 10);
        assert_eq!(x[0].data.len() as u64, c - 10 + 3);
        assert_eq!(x[1].offset, 5 * c);
        assert_eq!(x[1].data, b);
    }
}
