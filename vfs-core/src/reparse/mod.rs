//! The REPARSE_DATA_BUFFER codec: parse, validate and build the byte buffers that
//! FSCTL_SET_REPARSE_POINT takes and FSCTL_GET_REPARSE_POINT returns.
//!
//! Layouts (all integers little-endian):
//!
//! * REPARSE_DATA_BUFFER, [MS-FSCC] 2.1.2.2 — `ReparseTag: u32`, `ReparseDataLength: u16`,
//!   `Reserved: u16`, then `ReparseDataLength` bytes of tag-specific data. Used by
//!   Microsoft tags (bit 31 set, [MS-FSCC] 2.1.2.1).
//! * REPARSE_GUID_DATA_BUFFER, [MS-FSCC] 2.1.2.3 — the same 8-byte header followed by a
//!   16-byte `ReparseGuid`, then `ReparseDataLength` bytes of data. Required for
//!   non-Microsoft (third-party) tags.
//! * Symbolic link data, [MS-FSCC] 2.1.2.4 — `SubstituteNameOffset`, `SubstituteNameLength`,
//!   `PrintNameOffset`, `PrintNameLength` (all `u16`, in bytes, offsets relative to the
//!   start of `PathBuffer`), `Flags: u32`, then `PathBuffer`.
//! * Mount point (junction) data, [MS-FSCC] 2.1.2.5 — the same four `u16` fields, no
//!   `Flags`, then `PathBuffer`.
//!
//! Validation follows the parameter checks of FSCTL_SET_REPARSE_POINT in [MS-FSA]
//! 2.1.5.10.37 and the error table of [MS-FSCC] 2.3.82: every failure is what NTFS reports
//! as STATUS_IO_REPARSE_DATA_INVALID (ERROR_INVALID_REPARSE_DATA, 4392). A buffer that
//! parses is kept byte for byte, so FSCTL_GET_REPARSE_POINT hands back exactly what was
//! set (including the `Reserved` field and any bytes of `PathBuffer` no name covers).
//!
//! The builders and [`symlink_for_target`] / [`junction_for_target`] produce the layouts
//! that the Windows writers produce (CreateSymbolicLinkW, `mklink /J`), see rules A3 and A4
//! of `docs/NTFS-RULES.md`.
//!
//! This module is plain data manipulation: no OS calls, std only, and no input can make
//! it panic.

use std::fmt;

/// IO_REPARSE_TAG_MOUNT_POINT, a junction or volume mount point ([MS-FSCC] 2.1.2.1).
pub const IO_REPARSE_TAG_MOUNT_POINT: u32 = 0xA000_0003;
/// IO_REPARSE_TAG_SYMLINK, a symbolic link ([MS-FSCC] 2.1.2.1).
pub const IO_REPARSE_TAG_SYMLINK: u32 = 0xA000_000C;
/// IO_REPARSE_TAG_RESERVED_ZERO ([MS-FSCC] 2.1.2.1); can never be set.
pub const IO_REPARSE_TAG_RESERVED_ZERO: u32 = 0;
/// IO_REPARSE_TAG_RESERVED_ONE ([MS-FSCC] 2.1.2.1); can never be set.
pub const IO_REPARSE_TAG_RESERVED_ONE: u32 = 1;
/// IO_REPARSE_TAG_RESERVED_TWO ([MS-FSCC] 2.1.2.1); can never be set.
pub const IO_REPARSE_TAG_RESERVED_TWO: u32 = 2;

/// `Flags` bit of a symbolic link: the substitute name is relative to the directory that
/// holds the link ([MS-FSCC] 2.1.2.4).
pub const SYMLINK_FLAG_RELATIVE: u32 = 1;

/// MAXIMUM_REPARSE_DATA_BUFFER_SIZE: the largest buffer, header included, that
/// FSCTL_SET_REPARSE_POINT accepts ([MS-FSA] 2.1.5.10.37: "larger than 16384 bytes").
pub const MAX_REPARSE_DATA_SIZE: usize = 16 * 1024;

/// Size of the REPARSE_DATA_BUFFER header: tag, data length, reserved ([MS-FSCC] 2.1.2.2).
pub const REPARSE_DATA_BUFFER_HEADER_SIZE: usize = 8;

/// Size of the REPARSE_GUID_DATA_BUFFER header: the 8-byte header plus the GUID
/// ([MS-FSCC] 2.1.2.3).
pub const REPARSE_GUID_DATA_BUFFER_HEADER_SIZE: usize = 24;

/// Bytes before `PathBuffer` in symbolic link data: four `u16` and the `u32` flags
/// ([MS-FSCC] 2.1.2.4).
const SYMLINK_FIXED_SIZE: usize = 12;

/// Bytes before `PathBuffer` in mount point data: four `u16` ([MS-FSCC] 2.1.2.5).
const MOUNT_POINT_FIXED_SIZE: usize = 8;

/// Bit 31 ("M") of a reparse tag: the tag is owned by Microsoft and its data uses the
/// GUID-less REPARSE_DATA_BUFFER ([MS-FSCC] 2.1.2.1).
pub fn is_microsoft_tag(tag: u32) -> bool {
    tag & 0x8000_0000 != 0
}

/// Bit 29 ("N", name surrogate) of a reparse tag: the file stands for another named entity,
/// as junctions and symbolic links do ([MS-FSCC] 2.1.2.1).
pub fn is_name_surrogate_tag(tag: u32) -> bool {
    tag & 0x2000_0000 != 0
}

/// The reserved tags 0, 1 and 2 ([MS-FSCC] 2.1.2.1). Setting one fails with
/// STATUS_IO_REPARSE_DATA_INVALID ([MS-FSCC] 2.3.82); *deleting* one fails with
/// STATUS_IO_REPARSE_TAG_INVALID instead ([MS-FSA] 2.1.5.10.3), which is why this test is
/// public: the engine needs it to pick the right status for FSCTL_DELETE_REPARSE_POINT.
pub fn is_reserved_tag(tag: u32) -> bool {
    tag <= IO_REPARSE_TAG_RESERVED_TWO
}

/// A reparse buffer that NTFS would refuse with STATUS_IO_REPARSE_DATA_INVALID. The text
/// says which rule the buffer broke; it is for logs and tests, not for matching on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidReparseData(pub &'static str);

impl fmt::Display for InvalidReparseData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid reparse data: {}", self.0)
    }
}

impl std::error::Error for InvalidReparseData {}

// Reasons, shared between the checks and the tests that pin them.
const TOO_SHORT: &str = "buffer is shorter than the 8-byte REPARSE_DATA_BUFFER header";
const TOO_LONG: &str = "buffer is larger than MAXIMUM_REPARSE_DATA_BUFFER_SIZE (16384 bytes)";
const RESERVED_TAG: &str = "reparse tag 0, 1 or 2 is reserved";
const LENGTH_MISMATCH: &str = "ReparseDataLength does not match the buffer length";
const GUID_REQUIRED: &str =
    "a non-Microsoft tag needs a REPARSE_GUID_DATA_BUFFER (ReparseDataLength + 24 bytes)";
const GUID_NOT_ALLOWED: &str =
    "a Microsoft tag uses REPARSE_DATA_BUFFER without a GUID (ReparseDataLength + 8 bytes)";
const SYMLINK_TOO_SHORT: &str = "symbolic link data is shorter than its 12 fixed bytes";
const MOUNT_POINT_TOO_SHORT: &str = "mount point data is shorter than its 8 fixed bytes";
const ODD_OFFSET: &str = "name offset is not a multiple of 2";
const ODD_LENGTH: &str = "name length is not a multiple of 2";
const NAME_OUTSIDE: &str = "name lies outside the PathBuffer";
const BAD_SYMLINK_FLAGS: &str = "symbolic link Flags other than 0 or SYMLINK_FLAG_RELATIVE";
const DELETE_DATA_LENGTH: &str = "FSCTL_DELETE_REPARSE_POINT needs ReparseDataLength 0";
const DELETE_SIZE: &str =
    "FSCTL_DELETE_REPARSE_POINT takes only a header (8 bytes, or 24 with the GUID)";
const BUILD_TOO_LONG: &str = "the reparse buffer would exceed 16384 bytes";
const EMPTY_TARGET: &str = "link target is empty";
const DRIVE_RELATIVE: &str =
    "drive-relative target (\"X:path\") needs that drive's current directory";
const BAD_DRIVE: &str = "volume drive letter must be A-Z";
const JUNCTION_RELATIVE: &str = "junction target must be absolute";
const JUNCTION_REMOTE: &str = "junction target must be on a local volume, not a UNC path";
const INCOMPLETE_UNC: &str = "UNC target needs a server and a share name";

/// The tag-specific part of a reparse buffer, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReparseData {
    /// IO_REPARSE_TAG_SYMLINK, [MS-FSCC] 2.1.2.4.
    Symlink {
        /// SubstituteName in UTF-16 code units: the NT path (or, with
        /// [`SYMLINK_FLAG_RELATIVE`], the relative path) the link resolves to.
        substitute_name: Vec<u16>,
        /// PrintName in UTF-16 code units: the target as shown to users.
        print_name: Vec<u16>,
        /// 0, or [`SYMLINK_FLAG_RELATIVE`].
        flags: u32,
    },
    /// IO_REPARSE_TAG_MOUNT_POINT, [MS-FSCC] 2.1.2.5.
    MountPoint {
        /// SubstituteName in UTF-16 code units, without the NUL that writers append:
        /// an NT path such as `\??\C:\dir`.
        substitute_name: Vec<u16>,
        /// PrintName in UTF-16 code units, without NUL; may be empty.
        print_name: Vec<u16>,
    },
    /// Any other tag: opaque data.
    Other {
        /// `ReparseTag`.
        tag: u32,
        /// `ReparseGuid`: `Some` exactly for non-Microsoft tags ([MS-FSCC] 2.1.2.3).
        guid: Option<[u8; 16]>,
        /// The tag-specific data, without the header and GUID.
        data: Vec<u8>,
    },
}

/// A validated reparse buffer: the raw bytes exactly as the caller supplied them, plus the
/// decoded view of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReparseBuffer {
    bytes: Vec<u8>,
    data: ReparseData,
}

impl ReparseBuffer {
    /// Validates `bytes` the way FSCTL_SET_REPARSE_POINT does ([MS-FSA] 2.1.5.10.37,
    /// [MS-FSCC] 2.3.82) and decodes them:
    ///
    /// * 8 ≤ length ≤ 16384;
    /// * tags 0, 1 and 2 are reserved ([MS-FSCC] 2.1.2.1);
    /// * a Microsoft tag needs `ReparseDataLength + 8 == length` (REPARSE_DATA_BUFFER,
    ///   [MS-FSCC] 2.1.2.2); any other tag needs `ReparseDataLength + 24 == length`
    ///   (REPARSE_GUID_DATA_BUFFER with its GUID, [MS-FSCC] 2.1.2.3);
    /// * symbolic link data has at least 12 bytes and `Flags` is 0 or
    ///   `SYMLINK_FLAG_RELATIVE` ([MS-FSCC] 2.1.2.4); mount point data has at least 8 bytes
    ///   ([MS-FSCC] 2.1.2.5); in both, each name's offset and length are even and the name
    ///   lies inside `PathBuffer`.
    ///
    /// Names may be empty, may overlap, and need not be NUL-terminated; the `Reserved`
    /// header field is ignored (and kept).
    ///
    /// [MS-FSA] 2.1.5.10.37 on its own accepts a length of `ReparseDataLength + 8` *or*
    /// `+ 24` for any tag; the per-tag rule applied here is the one [MS-FSCC] 2.1.2.2,
    /// 2.1.2.3 and 2.3.82 describe (REPARSE_DATA_BUFFER is for Microsoft tags only, and a
    /// third-party tag must carry its GUID).
    pub fn parse(bytes: &[u8]) -> Result<ReparseBuffer, InvalidReparseData> {
        let data = decode(bytes)?;
        Ok(ReparseBuffer {
            bytes: bytes.to_vec(),
            data,
        })
    }

    /// Builds a symbolic link buffer laid out as CreateSymbolicLinkW writes it: PrintName
    /// at offset 0, SubstituteName straight after it, no NUL terminators, `Flags` =
    /// [`SYMLINK_FLAG_RELATIVE`] when `relative` ([MS-FSCC] 2.1.2.4; rule A4).
    pub fn symlink(
        substitute: &[u16],
        print: &[u16],
        relative: bool,
    ) -> Result<ReparseBuffer, InvalidReparseData> {
        let print_bytes = utf16_byte_len(print)?;
        let substitute_bytes = utf16_byte_len(substitute)?;
        let data_len = SYMLINK_FIXED_SIZE
            .checked_add(print_bytes)
            .and_then(|n| n.checked_add(substitute_bytes))
            .ok_or(InvalidReparseData(BUILD_TOO_LONG))?;
        let mut out = header(IO_REPARSE_TAG_SYMLINK, data_len)?;
        push_u16(&mut out, u16_field(print_bytes)?); // SubstituteNameOffset
        push_u16(&mut out, u16_field(substitute_bytes)?); // SubstituteNameLength
        push_u16(&mut out, 0); // PrintNameOffset
        push_u16(&mut out, u16_field(print_bytes)?); // PrintNameLength
        let flags = if relative { SYMLINK_FLAG_RELATIVE } else { 0 };
        out.extend_from_slice(&flags.to_le_bytes());
        push_utf16(&mut out, print);
        push_utf16(&mut out, substitute);
        ReparseBuffer::parse(&out)
    }

    /// Builds a junction buffer laid out as `mklink /J` writes it: SubstituteName at
    /// offset 0, then PrintName, each followed by a NUL code unit that the lengths exclude
    /// but `ReparseDataLength` (8 + both names with their NULs) includes
    /// ([MS-FSCC] 2.1.2.5; rule A3).
    pub fn mount_point(
        substitute: &[u16],
        print: &[u16],
    ) -> Result<ReparseBuffer, InvalidReparseData> {
        let substitute_bytes = utf16_byte_len(substitute)?;
        let print_bytes = utf16_byte_len(print)?;
        let print_offset = substitute_bytes
            .checked_add(2)
            .ok_or(InvalidReparseData(BUILD_TOO_LONG))?;
        let data_len = MOUNT_POINT_FIXED_SIZE
            .checked_add(print_offset)
            .and_then(|n| n.checked_add(print_bytes))
            .and_then(|n| n.checked_add(2))
            .ok_or(InvalidReparseData(BUILD_TOO_LONG))?;
        let mut out = header(IO_REPARSE_TAG_MOUNT_POINT, data_len)?;
        push_u16(&mut out, 0); // SubstituteNameOffset
        push_u16(&mut out, u16_field(substitute_bytes)?); // SubstituteNameLength
        push_u16(&mut out, u16_field(print_offset)?); // PrintNameOffset
        push_u16(&mut out, u16_field(print_bytes)?); // PrintNameLength
        push_utf16(&mut out, substitute);
        push_u16(&mut out, 0);
        push_utf16(&mut out, print);
        push_u16(&mut out, 0);
        ReparseBuffer::parse(&out)
    }

    /// Builds a buffer for any tag: REPARSE_DATA_BUFFER for Microsoft tags (`guid` must be
    /// `None`), REPARSE_GUID_DATA_BUFFER for all others (`guid` must be `Some`)
    /// ([MS-FSCC] 2.1.2.2, 2.1.2.3). The result is validated like [`ReparseBuffer::parse`],
    /// so a symlink or mount point tag with malformed `data` is refused, and well-formed
    /// data for those tags decodes to the matching [`ReparseData`] variant.
    pub fn other(
        tag: u32,
        guid: Option<[u8; 16]>,
        data: &[u8],
    ) -> Result<ReparseBuffer, InvalidReparseData> {
        if is_reserved_tag(tag) {
            return Err(InvalidReparseData(RESERVED_TAG));
        }
        let mut out = header(tag, data.len())?;
        match (is_microsoft_tag(tag), guid) {
            (true, None) => {}
            (true, Some(_)) => return Err(InvalidReparseData(GUID_NOT_ALLOWED)),
            (false, None) => return Err(InvalidReparseData(GUID_REQUIRED)),
            (false, Some(guid)) => {
                if data.len() > MAX_REPARSE_DATA_SIZE - REPARSE_GUID_DATA_BUFFER_HEADER_SIZE {
                    return Err(InvalidReparseData(BUILD_TOO_LONG));
                }
                out.extend_from_slice(&guid);
            }
        }
        out.extend_from_slice(data);
        ReparseBuffer::parse(&out)
    }

    /// The buffer exactly as given to [`ReparseBuffer::parse`] (or as built).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The raw buffer, consuming `self`.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// `ReparseTag` from the header.
    pub fn tag(&self) -> u32 {
        match self.data {
            ReparseData::Symlink { .. } => IO_REPARSE_TAG_SYMLINK,
            ReparseData::MountPoint { .. } => IO_REPARSE_TAG_MOUNT_POINT,
            ReparseData::Other { tag, .. } => tag,
        }
    }

    /// The decoded data.
    pub fn data(&self) -> &ReparseData {
        &self.data
    }

    /// `ReparseGuid` of a non-Microsoft tag's REPARSE_GUID_DATA_BUFFER; `None` for
    /// Microsoft tags, whose buffers carry no GUID.
    pub fn guid(&self) -> Option<[u8; 16]> {
        match self.data {
            ReparseData::Other { guid, .. } => guid,
            _ => None,
        }
    }

    /// Whether this is IO_REPARSE_TAG_SYMLINK.
    pub fn is_symlink(&self) -> bool {
        matches!(self.data, ReparseData::Symlink { .. })
    }

    /// Whether this is IO_REPARSE_TAG_MOUNT_POINT (a junction).
    pub fn is_mount_point(&self) -> bool {
        matches!(self.data, ReparseData::MountPoint { .. })
    }

    /// Tag bit 29, name surrogate ([MS-FSCC] 2.1.2.1).
    pub fn is_name_surrogate(&self) -> bool {
        is_name_surrogate_tag(self.tag())
    }

    /// SubstituteName of a symbolic link or mount point.
    pub fn substitute_name(&self) -> Option<&[u16]> {
        match &self.data {
            ReparseData::Symlink {
                substitute_name, ..
            }
            | ReparseData::MountPoint {
                substitute_name, ..
            } => Some(substitute_name),
            ReparseData::Other { .. } => None,
        }
    }

    /// PrintName of a symbolic link or mount point.
    pub fn print_name(&self) -> Option<&[u16]> {
        match &self.data {
            ReparseData::Symlink { print_name, .. }
            | ReparseData::MountPoint { print_name, .. } => Some(print_name),
            ReparseData::Other { .. } => None,
        }
    }

    /// `Flags` of a symbolic link.
    pub fn symlink_flags(&self) -> Option<u32> {
        match self.data {
            ReparseData::Symlink { flags, .. } => Some(flags),
            _ => None,
        }
    }
}

/// Validates the input of FSCTL_DELETE_REPARSE_POINT, which names the reparse point to
/// remove by header only ([MS-FSCC] 2.3.5/2.3.6, [MS-FSA] 2.1.5.10.3):
/// `ReparseDataLength` must be 0 and the length exactly 8 (REPARSE_DATA_BUFFER) or 24
/// (REPARSE_GUID_DATA_BUFFER); a non-Microsoft tag needs the 24-byte form with its GUID.
/// Returns the tag and, for non-Microsoft tags, the GUID. A Microsoft tag sent in the
/// 24-byte form is accepted, as [MS-FSCC] 2.3.6 allows, and its GUID ignored (`None`).
///
/// Reserved tags are refused here too; NTFS reports that case as
/// STATUS_IO_REPARSE_TAG_INVALID rather than STATUS_IO_REPARSE_DATA_INVALID, so the caller
/// should test [`is_reserved_tag`] first if it needs the exact status.
pub fn parse_delete_header(bytes: &[u8]) -> Result<(u32, Option<[u8; 16]>), InvalidReparseData> {
    if bytes.len() < REPARSE_DATA_BUFFER_HEADER_SIZE {
        return Err(InvalidReparseData(TOO_SHORT));
    }
    let (tag, data_length) = read_header(bytes)?;
    if data_length != 0 {
        return Err(InvalidReparseData(DELETE_DATA_LENGTH));
    }
    if is_reserved_tag(tag) {
        return Err(InvalidReparseData(RESERVED_TAG));
    }
    match (bytes.len(), is_microsoft_tag(tag)) {
        (REPARSE_DATA_BUFFER_HEADER_SIZE, true) => Ok((tag, None)),
        (REPARSE_DATA_BUFFER_HEADER_SIZE, false) => Err(InvalidReparseData(GUID_REQUIRED)),
        (REPARSE_GUID_DATA_BUFFER_HEADER_SIZE, true) => Ok((tag, None)),
        (REPARSE_GUID_DATA_BUFFER_HEADER_SIZE, false) => Ok((tag, Some(read_guid(bytes)?))),
        _ => Err(InvalidReparseData(DELETE_SIZE)),
    }
}

// ---------------------------------------------------------------------------------------
// Decoding

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let b = bytes.get(at..end)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let b = bytes.get(at..end)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_guid(bytes: &[u8]) -> Result<[u8; 16], InvalidReparseData> {
    bytes
        .get(REPARSE_DATA_BUFFER_HEADER_SIZE..REPARSE_GUID_DATA_BUFFER_HEADER_SIZE)
        .and_then(|g| <[u8; 16]>::try_from(g).ok())
        .ok_or(InvalidReparseData(GUID_REQUIRED))
}

/// Tag and `ReparseDataLength` of the common 8-byte header ([MS-FSCC] 2.1.2.2).
fn read_header(bytes: &[u8]) -> Result<(u32, usize), InvalidReparseData> {
    match (read_u32(bytes, 0), read_u16(bytes, 4)) {
        (Some(tag), Some(len)) => Ok((tag, usize::from(len))),
        _ => Err(InvalidReparseData(TOO_SHORT)),
    }
}

fn decode(bytes: &[u8]) -> Result<ReparseData, InvalidReparseData> {
    // [MS-FSA] 2.1.5.10.37: size limits first.
    if bytes.len() < REPARSE_DATA_BUFFER_HEADER_SIZE {
        return Err(InvalidReparseData(TOO_SHORT));
    }
    if bytes.len() > MAX_REPARSE_DATA_SIZE {
        return Err(InvalidReparseData(TOO_LONG));
    }
    let (tag, data_length) = read_header(bytes)?;
    if is_reserved_tag(tag) {
        return Err(InvalidReparseData(RESERVED_TAG));
    }
    let plain = data_length + REPARSE_DATA_BUFFER_HEADER_SIZE == bytes.len();
    let with_guid = data_length + REPARSE_GUID_DATA_BUFFER_HEADER_SIZE == bytes.len();
    if is_microsoft_tag(tag) {
        if !plain {
            return Err(InvalidReparseData(if with_guid {
                GUID_NOT_ALLOWED
            } else {
                LENGTH_MISMATCH
            }));
        }
    } else if !with_guid {
        // [MS-FSCC] 2.3.82: "a REPARSE_DATA_BUFFER structure has been specified for a
        // third party reparse tag".
        return Err(InvalidReparseData(if plain {
            GUID_REQUIRED
        } else {
            LENGTH_MISMATCH
        }));
    }

    if !is_microsoft_tag(tag) {
        let guid = read_guid(bytes)?;
        let data = bytes
            .get(REPARSE_GUID_DATA_BUFFER_HEADER_SIZE..)
            .unwrap_or_default()
            .to_vec();
        return Ok(ReparseData::Other {
            tag,
            guid: Some(guid),
            data,
        });
    }

    let data = bytes
        .get(REPARSE_DATA_BUFFER_HEADER_SIZE..)
        .unwrap_or_default();
    match tag {
        IO_REPARSE_TAG_SYMLINK => decode_symlink(data),
        IO_REPARSE_TAG_MOUNT_POINT => decode_mount_point(data),
        _ => Ok(ReparseData::Other {
            tag,
            guid: None,
            data: data.to_vec(),
        }),
    }
}

/// The four `u16` name fields shared by [MS-FSCC] 2.1.2.4 and 2.1.2.5, decoded against
/// `path_buffer`: (substitute, print).
fn decode_names(
    fixed: &[u8],
    path_buffer: &[u8],
) -> Result<(Vec<u16>, Vec<u16>), InvalidReparseData> {
    let field = |at| read_u16(fixed, at).ok_or(InvalidReparseData(NAME_OUTSIDE));
    let substitute = name_in(path_buffer, field(0)?, field(2)?)?;
    let print = name_in(path_buffer, field(4)?, field(6)?)?;
    Ok((substitute, print))
}

fn name_in(path_buffer: &[u8], offset: u16, length: u16) -> Result<Vec<u16>, InvalidReparseData> {
    // Names are arrays of WCHAR: byte offsets and lengths must be even. (Bit tests rather
    // than `is_multiple_of`, which is newer than the workspace's rust-version.)
    if offset & 1 != 0 {
        return Err(InvalidReparseData(ODD_OFFSET));
    }
    if length & 1 != 0 {
        return Err(InvalidReparseData(ODD_LENGTH));
    }
    let start = usize::from(offset);
    let end = start
        .checked_add(usize::from(length))
        .ok_or(InvalidReparseData(NAME_OUTSIDE))?;
    let raw = path_buffer
        .get(start..end)
        .ok_or(InvalidReparseData(NAME_OUTSIDE))?;
    Ok(raw
        .chunks_exact(2)
        .map(|unit| u16::from_le_bytes([unit[0], unit[1]]))
        .collect())
}

fn decode_symlink(data: &[u8]) -> Result<ReparseData, InvalidReparseData> {
    if data.len() < SYMLINK_FIXED_SIZE {
        return Err(InvalidReparseData(SYMLINK_TOO_SHORT));
    }
    let (fixed, path_buffer) = data.split_at(SYMLINK_FIXED_SIZE);
    let flags = read_u32(fixed, 8).ok_or(InvalidReparseData(SYMLINK_TOO_SHORT))?;
    if flags & !SYMLINK_FLAG_RELATIVE != 0 {
        return Err(InvalidReparseData(BAD_SYMLINK_FLAGS));
    }
    let (substitute_name, print_name) = decode_names(fixed, path_buffer)?;
    Ok(ReparseData::Symlink {
        substitute_name,
        print_name,
        flags,
    })
}

fn decode_mount_point(data: &[u8]) -> Result<ReparseData, InvalidReparseData> {
    if data.len() < MOUNT_POINT_FIXED_SIZE {
        return Err(InvalidReparseData(MOUNT_POINT_TOO_SHORT));
    }
    let (fixed, path_buffer) = data.split_at(MOUNT_POINT_FIXED_SIZE);
    let (substitute_name, print_name) = decode_names(fixed, path_buffer)?;
    Ok(ReparseData::MountPoint {
        substitute_name,
        print_name,
    })
}

// ---------------------------------------------------------------------------------------
// Encoding

fn utf16_byte_len(units: &[u16]) -> Result<usize, InvalidReparseData> {
    units
        .len()
        .checked_mul(2)
        .ok_or(InvalidReparseData(BUILD_TOO_LONG))
}

fn u16_field(value: usize) -> Result<u16, InvalidReparseData> {
    u16::try_from(value).map_err(|_| InvalidReparseData(BUILD_TOO_LONG))
}

/// The 8-byte REPARSE_DATA_BUFFER header, refusing buffers over 16 KiB.
fn header(tag: u32, data_length: usize) -> Result<Vec<u8>, InvalidReparseData> {
    if data_length > MAX_REPARSE_DATA_SIZE - REPARSE_DATA_BUFFER_HEADER_SIZE {
        return Err(InvalidReparseData(BUILD_TOO_LONG));
    }
    let mut out = Vec::with_capacity(REPARSE_DATA_BUFFER_HEADER_SIZE + data_length);
    out.extend_from_slice(&tag.to_le_bytes());
    push_u16(&mut out, u16_field(data_length)?);
    push_u16(&mut out, 0); // Reserved
    Ok(out)
}

fn push_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn push_utf16(out: &mut Vec<u8>, units: &[u16]) {
    for &unit in units {
        push_u16(out, unit);
    }
}

mod link_target;
mod special;
pub use link_target::{junction_for_target, symlink_for_target};
pub use special::{
    SpecialFile, IO_REPARSE_TAG_AF_UNIX, IO_REPARSE_TAG_LX_BLK, IO_REPARSE_TAG_LX_CHR,
    IO_REPARSE_TAG_LX_FIFO,
};

#[cfg(test)]
mod tests;
