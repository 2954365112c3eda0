//! The snapshot: a whole drive as plain data. [`crate::Volume::snapshot`] makes one and
//! [`crate::Volume::from_snapshot`] rebuilds a volume from one (both in `volume/snapshot.rs`);
//! [`crate::image`] encodes and decodes them. This module sits below both: it knows neither
//! the store nor the image format, so the dependencies run one way (image → volume →
//! snapshot).

use crate::data::CHUNK_SIZE;
use crate::types::{DeleteSemantics, SymlinkKindRule, VolumeOptions};
use serde::{Deserialize, Serialize};

/// A snapshot that breaks an invariant of the engine: what [`crate::Volume::from_snapshot`]
/// refuses, with the first problem found. The image loader reports it as
/// [`crate::image::ImageError::Inconsistent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("image is inconsistent: {0}")]
pub struct InconsistentSnapshot(pub String);

/// A whole drive as plain data: what [`Volume::snapshot`] returns, what an image holds, and
/// what [`Volume::from_snapshot`] rebuilds a volume from. Two snapshots are equal when the
/// drives are equal in every saved detail, FileIds and the slot generation table included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub(crate) options: SnapOptions,
    pub(crate) root: u64,
    /// Last generation used per slab slot (never-reuse of FileIds survives a load).
    pub(crate) generations: Vec<u32>,
    /// Live files in slot order.
    pub(crate) files: Vec<SnapFile>,
}

impl Snapshot {
    /// The options of the saved volume.
    pub fn options(&self) -> VolumeOptions {
        self.options.to_options()
    }

    /// Replaces the options the loaded volume will have (for a mount that overrides, e.g.,
    /// `read_only` or the drive map). [`Volume::from_snapshot`] checks them against the
    /// drive (a smaller `max_links` than a file's names is refused).
    pub fn set_options(&mut self, opts: &VolumeOptions) {
        self.options = SnapOptions::from_options(opts);
    }

    /// Number of files and directories (root included).
    pub fn file_count(&self) -> usize {
        self.files.len()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SnapOptions {
    pub drive_letter: char,
    pub drive_map: Vec<(char, String)>,
    /// 0 = POSIX, 1 = legacy.
    pub delete_semantics: u8,
    /// 0 = Windows 11, 1 = legacy.
    pub symlink_kind_rule: u8,
    pub case_sensitive: bool,
    pub read_only: bool,
    pub max_links: u64,
    pub max_reparse_points: u64,
    pub default_uid: u32,
    pub default_gid: u32,
}

impl SnapOptions {
    pub(crate) fn from_options(o: &VolumeOptions) -> SnapOptions {
        SnapOptions {
            drive_letter: o.drive_letter,
            drive_map: o.drive_map.iter().map(|(k, v)| (*k, v.clone())).collect(),
            delete_semantics: match o.delete_semantics {
                DeleteSemantics::Posix => 0,
                DeleteSemantics::Legacy => 1,
            },
            symlink_kind_rule: match o.symlink_kind_rule {
                SymlinkKindRule::Windows11 => 0,
                SymlinkKindRule::Legacy => 1,
            },
            case_sensitive: o.case_sensitive,
            read_only: o.read_only,
            max_links: o.max_links as u64,
            max_reparse_points: o.max_reparse_points as u64,
            default_uid: o.default_uid,
            default_gid: o.default_gid,
        }
    }

    /// Lenient conversion (unknown enum values fall back to the default); the strict check
    /// is [`SnapOptions::validate`].
    pub(crate) fn to_options(&self) -> VolumeOptions {
        VolumeOptions {
            drive_letter: self.drive_letter,
            drive_map: self.drive_map.iter().cloned().collect(),
            delete_semantics: if self.delete_semantics == 1 {
                DeleteSemantics::Legacy
            } else {
                DeleteSemantics::Posix
            },
            symlink_kind_rule: if self.symlink_kind_rule == 1 {
                SymlinkKindRule::Legacy
            } else {
                SymlinkKindRule::Windows11
            },
            case_sensitive: self.case_sensitive,
            read_only: self.read_only,
            max_links: usize::try_from(self.max_links).unwrap_or(usize::MAX),
            max_reparse_points: usize::try_from(self.max_reparse_points).unwrap_or(usize::MAX),
            default_uid: self.default_uid,
            default_gid: self.default_gid,
            // Chosen by the mount, not kept in images (`Volume::from_snapshot_sized`).
            ..VolumeOptions::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        let letter_ok = |c: char| c.is_ascii_uppercase();
        if !letter_ok(self.drive_letter) {
            return Err(format!("drive letter {:?} is not A-Z", self.drive_letter));
        }
        if let Some((c, _)) = self.drive_map.iter().find(|(c, _)| !letter_ok(*c)) {
            return Err(format!("drive map letter {c:?} is not A-Z"));
        }
        if self.delete_semantics > 1 {
            return Err(format!(
                "unknown delete semantics {}",
                self.delete_semantics
            ));
        }
        if self.symlink_kind_rule > 1 {
            return Err(format!(
                "unknown symlink kind rule {}",
                self.symlink_kind_rule
            ));
        }
        if self.max_links == 0 {
            return Err("max_links is 0".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SnapFile {
    pub id: u64,
    pub attributes: u32,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    /// creation, last access, last write, change.
    pub times: [u64; 4],
    /// Every name, in the order they were made (what `Volume::names` returns).
    pub links: Vec<SnapLink>,
    pub body: SnapBody,
    pub security: Option<Bytes>,
    pub reparse: Option<Bytes>,
    pub xattrs: Vec<(String, Bytes)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SnapLink {
    pub parent: u64,
    pub name: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SnapBody {
    File {
        size: u64,
        /// Allocated chunks in increasing index order, each without its trailing zeros (an
        /// empty one is an allocated chunk of zeros).
        chunks: Vec<SnapChunk>,
    },
    Dir {
        case_sensitive: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SnapChunk {
    pub index: u64,
    pub data: Bytes,
}

impl SnapChunk {
    pub(crate) fn new(index: u64, chunk: &[u8]) -> SnapChunk {
        let end = chunk.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        SnapChunk {
            index,
            data: Bytes(chunk[..end].to_vec()),
        }
    }
    pub(crate) fn is_zero(&self) -> bool {
        self.data.0.is_empty()
    }
}

/// Bytes encoded as one length-prefixed blob (serde's default for `Vec<u8>` is a sequence of
/// integers, which decodes one element at a time).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Bytes, A::Error> {
                let mut v = Vec::new();
                while let Some(b) = a.next_element()? {
                    v.push(b);
                }
                Ok(Bytes(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

/// Largest chunk payload a snapshot may hold.
pub(crate) const MAX_CHUNK: usize = CHUNK_SIZE;
