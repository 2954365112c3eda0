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
//! of `ntfs-semantics.md`.
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

/// Turns a link target as a user types it into the symbolic link buffer that
/// CreateSymbolicLinkW (and `mklink`) would write, on a volume mounted as `drive`:
///
/// | target           | SubstituteName                | PrintName        | relative |
/// |------------------|-------------------------------|------------------|----------|
/// | `X:\path`        | `\??\X:\path`                 | `X:\path`        | no       |
/// | `\path`          | `\??\D:\path` (D = `drive`)   | `D:\path`        | no       |
/// | `\\srv\share\x`  | `\??\UNC\srv\share\x`         | `\\srv\share\x`  | no       |
/// | `\??\…`          | unchanged                     | Win32 form       | no       |
/// | `\\?\…`, `\\.\…` | `\??\…`                       | Win32 form       | no       |
/// | anything else    | target with `/` → `\`         | same             | yes      |
///
/// Absolute DOS and UNC targets are normalised as GetFullPathNameW does: `/` becomes `\`,
/// repeated separators collapse, `.` and `..` are resolved (never above the root). The
/// `\\?\` and `\??\` forms are taken verbatim. Root-relative targets are made absolute on
/// `drive` (rule A4, Go `TestRootRelativeDirSymlink`). A drive-relative target (`X:path`)
/// depends on the process's current directory on that drive, which this codec cannot know,
/// so it is an error; resolve it before calling. The target is read as a C string: it ends
/// at the first NUL.
pub fn symlink_for_target(
    target: &[u16],
    drive: char,
) -> Result<ReparseBuffer, InvalidReparseData> {
    match convert_target(target, drive)? {
        Converted::Absolute { nt, win32 } => ReparseBuffer::symlink(&nt, &win32, false),
        Converted::Relative(rel) => ReparseBuffer::symlink(&rel, &rel, true),
    }
}

/// Turns a junction target into the mount point buffer `mklink /J` would write on a volume
/// mounted as `drive`: SubstituteName `\??\X:\path`, PrintName `X:\path`. The target must be
/// absolute (`X:\path`, or root-relative `\path`, made absolute on `drive`) or already an
/// NT / `\\?\` path; relative targets are refused, and so are UNC targets because junctions
/// may only point at local volumes (rule A3). Normalisation is as in [`symlink_for_target`].
pub fn junction_for_target(
    target: &[u16],
    drive: char,
) -> Result<ReparseBuffer, InvalidReparseData> {
    match convert_target(target, drive)? {
        Converted::Absolute { nt, .. } if starts_with_ascii_ci(&nt, "\\??\\UNC\\") => {
            Err(InvalidReparseData(JUNCTION_REMOTE))
        }
        Converted::Absolute { nt, win32 } => ReparseBuffer::mount_point(&nt, &win32),
        Converted::Relative(_) => Err(InvalidReparseData(JUNCTION_RELATIVE)),
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

// ---------------------------------------------------------------------------------------
// Win32 target strings → NT names, the way CreateSymbolicLinkW / mklink do it.

const BACKSLASH: u16 = b'\\' as u16;
const SLASH: u16 = b'/' as u16;
const COLON: u16 = b':' as u16;

fn is_sep(unit: u16) -> bool {
    unit == BACKSLASH || unit == SLASH
}

fn ascii(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn starts_with_ascii_ci(s: &[u16], prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.iter()
            .zip(prefix.bytes())
            .all(|(&u, p)| ascii_byte(u).is_some_and(|b| b.eq_ignore_ascii_case(&p)))
}

/// The code unit as an ASCII byte, if it is one.
fn ascii_byte(unit: u16) -> Option<u8> {
    u8::try_from(unit).ok().filter(u8::is_ascii)
}

fn is_drive_letter(unit: u16) -> bool {
    ascii_byte(unit).is_some_and(|b| b.is_ascii_alphabetic())
}

/// The target up to its first NUL, as the Win32 API would see an LPCWSTR.
fn c_string(target: &[u16]) -> &[u16] {
    match target.iter().position(|&u| u == 0) {
        Some(end) => &target[..end],
        None => target,
    }
}

/// Path types in the spirit of RtlDetermineDosPathNameType_U, plus the NT `\??\` prefix
/// which the Win32 layer passes through untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathKind {
    /// `\??\…`
    Nt,
    /// `\\?\…` (no normalisation)
    Verbatim,
    /// `\\.\…`
    LocalDevice,
    /// `\\server\share…`
    Unc,
    /// `X:\…`
    DriveAbsolute,
    /// `X:…`
    DriveRelative,
    /// `\…`
    Rooted,
    /// anything else
    Relative,
}

fn classify(path: &[u16]) -> PathKind {
    let at = |i: usize| path.get(i).copied();
    let sep_at = |i: usize| at(i).is_some_and(is_sep);
    if path.starts_with(&ascii("\\??\\")) {
        return PathKind::Nt;
    }
    // Only the exact `\\?\` prefix suppresses normalisation; `//?/` is an ordinary
    // device path like `\\.\`.
    if path.starts_with(&ascii("\\\\?\\")) {
        return PathKind::Verbatim;
    }
    if sep_at(0) && sep_at(1) {
        if sep_at(3) && matches!(at(2), Some(c) if c == u16::from(b'.') || c == u16::from(b'?')) {
            return PathKind::LocalDevice;
        }
        return PathKind::Unc;
    }
    if sep_at(0) {
        return PathKind::Rooted;
    }
    if at(0).is_some_and(is_drive_letter) && at(1) == Some(COLON) {
        return if sep_at(2) {
            PathKind::DriveAbsolute
        } else {
            PathKind::DriveRelative
        };
    }
    PathKind::Relative
}

enum Converted {
    Absolute { nt: Vec<u16>, win32: Vec<u16> },
    Relative(Vec<u16>),
}

/// `root` followed by the components of `rest` with `.` and `..` resolved as
/// GetFullPathNameW does (`..` never climbs above `root`), joined by `\`. A trailing
/// separator on a non-empty result is kept.
fn normalise(root: &[u16], rest: &[u16]) -> Vec<u16> {
    let dot = ascii(".");
    let dot_dot = ascii("..");
    let mut parts: Vec<&[u16]> = Vec::new();
    for part in rest.split(|&u| is_sep(u)) {
        if part.is_empty() || part == dot.as_slice() {
            continue;
        }
        if part == dot_dot.as_slice() {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    let mut out = root.to_vec();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(BACKSLASH);
        }
        out.extend_from_slice(part);
    }
    if !parts.is_empty() && rest.last().copied().is_some_and(is_sep) {
        out.push(BACKSLASH);
    }
    out
}

/// The Win32 (display) form of an NT path below `\??\`: `UNC\srv\x` → `\\srv\x`,
/// `C:\x` → `C:\x`, anything else unchanged.
fn win32_form(after_prefix: &[u16]) -> Vec<u16> {
    if starts_with_ascii_ci(after_prefix, "UNC\\") {
        let mut out = ascii("\\\\");
        out.extend_from_slice(&after_prefix[4..]);
        out
    } else {
        after_prefix.to_vec()
    }
}

fn nt_path(after_prefix: &[u16]) -> Vec<u16> {
    let mut nt = ascii("\\??\\");
    nt.extend_from_slice(after_prefix);
    nt
}

fn convert_target(target: &[u16], drive: char) -> Result<Converted, InvalidReparseData> {
    let target = c_string(target);
    if target.is_empty() {
        return Err(InvalidReparseData(EMPTY_TARGET));
    }
    // `win32` is the normalised Win32 path, `after_prefix` what follows `\??\` in the NT path.
    let absolute = |win32: Vec<u16>, after_prefix: &[u16]| Converted::Absolute {
        nt: nt_path(after_prefix),
        win32,
    };
    Ok(match classify(target) {
        PathKind::Nt => Converted::Absolute {
            nt: target.to_vec(),
            win32: win32_form(&target[4..]),
        },
        PathKind::Verbatim => {
            let rest = &target[4..];
            absolute(win32_form(rest), rest)
        }
        PathKind::LocalDevice => {
            // `\\.\C:\x` → `\??\C:\x`; the device name (first component) is the root that
            // `..` cannot climb above.
            let rest = &target[4..];
            let device_len = rest.iter().position(|&u| is_sep(u)).unwrap_or(rest.len());
            let normal = if device_len < rest.len() {
                let mut root = rest[..device_len].to_vec();
                root.push(BACKSLASH);
                normalise(&root, &rest[device_len..])
            } else {
                rest.to_vec()
            };
            absolute(win32_form(&normal), &normal)
        }
        PathKind::Unc => {
            // `\\server\share` is the root; `..` stops there.
            let body = &target[2..];
            let mut pieces = body.split(|&u| is_sep(u)).filter(|p| !p.is_empty());
            let (server, share) = match (pieces.next(), pieces.next()) {
                (Some(server), Some(share)) => (server, share),
                _ => return Err(InvalidReparseData(INCOMPLETE_UNC)),
            };
            let mut root = ascii("\\\\");
            root.extend_from_slice(server);
            root.push(BACKSLASH);
            root.extend_from_slice(share);
            let rest = &body[position_after_components(body, 2)..];
            let win32 = if rest.is_empty() {
                root
            } else {
                root.push(BACKSLASH);
                normalise(&root, rest)
            };
            let mut after_prefix = ascii("UNC");
            after_prefix.extend_from_slice(&win32[1..]);
            absolute(win32, &after_prefix)
        }
        PathKind::DriveAbsolute => {
            let win32 = normalise(&[target[0], COLON, BACKSLASH], &target[2..]);
            absolute(win32.clone(), &win32)
        }
        PathKind::Rooted => {
            if !drive.is_ascii_alphabetic() {
                return Err(InvalidReparseData(BAD_DRIVE));
            }
            let letter = u16::from(drive.to_ascii_uppercase() as u8);
            let win32 = normalise(&[letter, COLON, BACKSLASH], target);
            absolute(win32.clone(), &win32)
        }
        PathKind::DriveRelative => return Err(InvalidReparseData(DRIVE_RELATIVE)),
        PathKind::Relative => Converted::Relative(
            target
                .iter()
                .map(|&u| if u == SLASH { BACKSLASH } else { u })
                .collect(),
        ),
    })
}

/// Index in `s` just past its first `count` non-empty separator-delimited components.
fn position_after_components(s: &[u16], count: usize) -> usize {
    let mut seen = 0;
    let mut i = 0;
    while i < s.len() && seen < count {
        while i < s.len() && is_sep(s[i]) {
            i += 1;
        }
        if i == s.len() {
            break;
        }
        while i < s.len() && !is_sep(s[i]) {
            i += 1;
        }
        seen += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    /// Hex bytes; whitespace is ignored and `#` starts a comment that runs to the end of
    /// the line.
    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s
            .lines()
            .flat_map(|line| line.split('#').next().unwrap_or_default().bytes())
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        assert!(
            digits.iter().all(u8::is_ascii_hexdigit),
            "stray character in hex fixture"
        );
        assert_eq!(digits.len() & 1, 0, "odd number of hex digits");
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    fn err(bytes: &[u8]) -> &'static str {
        ReparseBuffer::parse(bytes).unwrap_err().0
    }

    /// A junction to `C:\target` exactly as `mklink /J link C:\target` writes it, laid out
    /// by hand from [MS-FSCC] 2.1.2.5.
    const MKLINK_J_C_TARGET: &str = r"
        03 00 00 A0                       # ReparseTag IO_REPARSE_TAG_MOUNT_POINT
        38 00                             # ReparseDataLength 56 = 8 + 26 + 2 + 18 + 2
        00 00                             # Reserved
        00 00                             # SubstituteNameOffset 0
        1A 00                             # SubstituteNameLength 26 (NUL excluded)
        1C 00                             # PrintNameOffset 28 (after the NUL)
        12 00                             # PrintNameLength 18 (NUL excluded)
        5C 00 3F 00 3F 00 5C 00 43 00 3A 00 5C 00
        74 00 61 00 72 00 67 00 65 00 74 00  # \??\C:\target
        00 00                             # NUL
        43 00 3A 00 5C 00
        74 00 61 00 72 00 67 00 65 00 74 00  # C:\target
        00 00                             # NUL
    ";

    /// A symlink to `C:\target` exactly as CreateSymbolicLinkW writes it, laid out by hand
    /// from [MS-FSCC] 2.1.2.4: PrintName first, no NULs.
    const CREATE_SYMLINK_C_TARGET: &str = r"
        0C 00 00 A0                       # ReparseTag IO_REPARSE_TAG_SYMLINK
        38 00                             # ReparseDataLength 56 = 12 + 18 + 26
        00 00                             # Reserved
        12 00                             # SubstituteNameOffset 18 (after PrintName)
        1A 00                             # SubstituteNameLength 26
        00 00                             # PrintNameOffset 0
        12 00                             # PrintNameLength 18
        00 00 00 00                       # Flags 0 (absolute)
        43 00 3A 00 5C 00
        74 00 61 00 72 00 67 00 65 00 74 00  # C:\target
        5C 00 3F 00 3F 00 5C 00 43 00 3A 00 5C 00
        74 00 61 00 72 00 67 00 65 00 74 00  # \??\C:\target
    ";

    /// A relative symlink to `..\target` as CreateSymbolicLinkW writes it.
    const CREATE_SYMLINK_RELATIVE: &str = r"
        0C 00 00 A0                       # ReparseTag IO_REPARSE_TAG_SYMLINK
        30 00                             # ReparseDataLength 48 = 12 + 18 + 18
        00 00                             # Reserved
        12 00 12 00                       # SubstituteNameOffset 18, SubstituteNameLength 18
        00 00 12 00                       # PrintNameOffset 0, PrintNameLength 18
        01 00 00 00                       # Flags SYMLINK_FLAG_RELATIVE
        2E 00 2E 00 5C 00 74 00 61 00 72 00 67 00 65 00 74 00  # ..\target (print)
        2E 00 2E 00 5C 00 74 00 61 00 72 00 67 00 65 00 74 00  # ..\target (substitute)
    ";

    /// A third-party reparse point: tag 0x00000123, a GUID, 3 bytes of data.
    const THIRD_PARTY: &str = "
        23 01 00 00                       # ReparseTag 0x00000123 (M bit clear)
        03 00 00 00                       # ReparseDataLength 3, Reserved
        00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF  # ReparseGuid
        DE AD BF                          # data
    ";

    #[test]
    fn mount_point_layout_matches_mklink_j() {
        let built = ReparseBuffer::mount_point(&w(r"\??\C:\target"), &w(r"C:\target")).unwrap();
        assert_eq!(built.as_bytes(), hex(MKLINK_J_C_TARGET).as_slice());
        assert_eq!(built.as_bytes().len(), 64);
    }

    #[test]
    fn symlink_layout_matches_create_symbolic_link_w() {
        let built = ReparseBuffer::symlink(&w(r"\??\C:\target"), &w(r"C:\target"), false).unwrap();
        assert_eq!(built.as_bytes(), hex(CREATE_SYMLINK_C_TARGET).as_slice());
        let rel = ReparseBuffer::symlink(&w(r"..\target"), &w(r"..\target"), true).unwrap();
        assert_eq!(rel.as_bytes(), hex(CREATE_SYMLINK_RELATIVE).as_slice());
    }

    #[test]
    fn parse_windows_junction_fixture() {
        let b = ReparseBuffer::parse(&hex(MKLINK_J_C_TARGET)).unwrap();
        assert!(b.is_mount_point() && !b.is_symlink());
        assert!(b.is_name_surrogate());
        assert_eq!(b.tag(), IO_REPARSE_TAG_MOUNT_POINT);
        assert_eq!(b.substitute_name(), Some(w(r"\??\C:\target").as_slice()));
        assert_eq!(b.print_name(), Some(w(r"C:\target").as_slice()));
        assert_eq!(b.symlink_flags(), None);
        assert_eq!(b.guid(), None);
    }

    #[test]
    fn parse_windows_symlink_fixtures() {
        let b = ReparseBuffer::parse(&hex(CREATE_SYMLINK_C_TARGET)).unwrap();
        assert!(b.is_symlink() && b.is_name_surrogate());
        assert_eq!(b.substitute_name(), Some(w(r"\??\C:\target").as_slice()));
        assert_eq!(b.print_name(), Some(w(r"C:\target").as_slice()));
        assert_eq!(b.symlink_flags(), Some(0));

        let r = ReparseBuffer::parse(&hex(CREATE_SYMLINK_RELATIVE)).unwrap();
        assert_eq!(r.symlink_flags(), Some(SYMLINK_FLAG_RELATIVE));
        assert_eq!(r.substitute_name(), Some(w(r"..\target").as_slice()));
    }

    #[test]
    fn parse_third_party_guid_buffer_msfscc_2_1_2_3() {
        let bytes = hex(THIRD_PARTY);
        let b = ReparseBuffer::parse(&bytes).unwrap();
        assert_eq!(b.tag(), 0x123);
        let guid: [u8; 16] = bytes[8..24].try_into().unwrap();
        assert_eq!(b.guid(), Some(guid));
        assert_eq!(
            b.data(),
            &ReparseData::Other {
                tag: 0x123,
                guid: Some(guid),
                data: vec![0xDE, 0xAD, 0xBF]
            }
        );
        assert!(!b.is_name_surrogate());
        assert_eq!(b.substitute_name(), None);
        assert_eq!(b.print_name(), None);
        assert_eq!(
            ReparseBuffer::other(0x123, Some(guid), &[0xDE, 0xAD, 0xBF]).unwrap(),
            b
        );
    }

    #[test]
    fn other_microsoft_tag_has_no_guid() {
        // IO_REPARSE_TAG_DEDUP 0x80000013 with 4 bytes of opaque data.
        let bytes = hex("13 00 00 80 04 00 00 00 01 02 03 04");
        let b = ReparseBuffer::parse(&bytes).unwrap();
        assert_eq!(
            b.data(),
            &ReparseData::Other {
                tag: 0x8000_0013,
                guid: None,
                data: vec![1, 2, 3, 4]
            }
        );
        assert_eq!(b.guid(), None);
        assert_eq!(
            ReparseBuffer::other(0x8000_0013, None, &[1, 2, 3, 4]).unwrap(),
            b
        );
        // An empty-data Microsoft buffer is just the header.
        let empty = ReparseBuffer::parse(&hex("13 00 00 80 00 00 00 00")).unwrap();
        assert_eq!(empty.as_bytes().len(), 8);
    }

    #[test]
    fn round_trip_is_byte_for_byte() {
        // Non-canonical but valid buffers must come back untouched: Reserved set, names in
        // unusual order, overlapping names, slack bytes nobody points at.
        let cases = [
            hex(MKLINK_J_C_TARGET),
            hex(CREATE_SYMLINK_C_TARGET),
            hex(CREATE_SYMLINK_RELATIVE),
            hex(THIRD_PARTY),
            // Reserved = 0xBEEF.
            hex("03 00 00 A0 0C 00 EF BE 00 00 02 00 00 00 02 00 41 00 42 00"),
            // Both names point at the same "A"; a trailing slack unit "Z".
            hex("0C 00 00 A0 10 00 00 00 00 00 02 00 00 00 02 00 00 00 00 00 41 00 5A 00"),
        ];
        for bytes in cases {
            let parsed = ReparseBuffer::parse(&bytes).unwrap();
            assert_eq!(parsed.as_bytes(), bytes.as_slice());
            assert_eq!(parsed.clone().into_bytes(), bytes);
            assert_eq!(ReparseBuffer::parse(parsed.as_bytes()).unwrap(), parsed);
        }
    }

    #[test]
    fn buffer_shorter_than_header_is_invalid_msfsa_2_1_5_10_37() {
        for len in 0..8 {
            assert_eq!(err(&vec![0u8; len]), TOO_SHORT);
        }
        assert_eq!(err(&hex("03 00 00 A0 00 00 00")), TOO_SHORT);
    }

    #[test]
    fn buffer_over_16k_is_invalid() {
        // Exactly 16384 bytes is fine ...
        let mut ok = vec![0u8; MAX_REPARSE_DATA_SIZE];
        ok[..4].copy_from_slice(&0x8000_0013u32.to_le_bytes());
        ok[4..6].copy_from_slice(&((MAX_REPARSE_DATA_SIZE - 8) as u16).to_le_bytes());
        assert!(ReparseBuffer::parse(&ok).is_ok());
        // ... one more byte is not, whatever the header says.
        let mut big = ok.clone();
        big.push(0);
        assert_eq!(err(&big), TOO_LONG);
        let mut guid_big = vec![0u8; MAX_REPARSE_DATA_SIZE + 1];
        guid_big[..4].copy_from_slice(&0x123u32.to_le_bytes());
        assert_eq!(err(&guid_big), TOO_LONG);
    }

    #[test]
    fn builders_refuse_over_16k() {
        // Symlink: 20 header bytes + 2 per unit.
        let max_units = (MAX_REPARSE_DATA_SIZE - 20) / 2;
        let name = vec![u16::from(b'a'); max_units];
        assert_eq!(
            ReparseBuffer::symlink(&name, &[], true)
                .unwrap()
                .as_bytes()
                .len(),
            MAX_REPARSE_DATA_SIZE
        );
        let too_long = vec![u16::from(b'a'); max_units + 1];
        assert_eq!(
            ReparseBuffer::symlink(&too_long, &[], true).unwrap_err().0,
            BUILD_TOO_LONG
        );
        assert_eq!(
            ReparseBuffer::symlink(&name, &name, false).unwrap_err().0,
            BUILD_TOO_LONG
        );
        // Mount point: 16 fixed bytes + 4 for the two NULs + 2 per unit.
        let mp_units = (MAX_REPARSE_DATA_SIZE - 20) / 2;
        let mp = vec![u16::from(b'b'); mp_units];
        assert_eq!(
            ReparseBuffer::mount_point(&mp, &[])
                .unwrap()
                .as_bytes()
                .len(),
            MAX_REPARSE_DATA_SIZE
        );
        let mp_long = vec![u16::from(b'b'); mp_units + 1];
        assert_eq!(
            ReparseBuffer::mount_point(&mp_long, &[]).unwrap_err().0,
            BUILD_TOO_LONG
        );
        // Other: Microsoft tags get 16376 data bytes, others 16360.
        assert!(ReparseBuffer::other(0x8000_0013, None, &vec![0; 16376]).is_ok());
        assert_eq!(
            ReparseBuffer::other(0x8000_0013, None, &vec![0; 16377])
                .unwrap_err()
                .0,
            BUILD_TOO_LONG
        );
        assert!(ReparseBuffer::other(0x123, Some([7; 16]), &vec![0; 16360]).is_ok());
        assert_eq!(
            ReparseBuffer::other(0x123, Some([7; 16]), &vec![0; 16361])
                .unwrap_err()
                .0,
            BUILD_TOO_LONG
        );
        // A data length that does not even fit ReparseDataLength.
        assert_eq!(
            ReparseBuffer::other(0x8000_0013, None, &vec![0; 70_000])
                .unwrap_err()
                .0,
            BUILD_TOO_LONG
        );
    }

    #[test]
    fn reparse_data_length_mismatch_is_invalid_msfscc_2_1_2_2() {
        let mut bytes = hex(MKLINK_J_C_TARGET);
        for wrong in [0u16, 1, 55, 57, 0xFFFF] {
            bytes[4..6].copy_from_slice(&wrong.to_le_bytes());
            assert_eq!(err(&bytes), LENGTH_MISMATCH, "ReparseDataLength {wrong}");
        }
        // Trailing junk after a correct buffer.
        let mut junk = hex(CREATE_SYMLINK_C_TARGET);
        junk.push(0);
        assert_eq!(err(&junk), LENGTH_MISMATCH);
        // Truncated buffer.
        let short = hex(CREATE_SYMLINK_C_TARGET);
        assert_eq!(err(&short[..short.len() - 2]), LENGTH_MISMATCH);
    }

    #[test]
    fn guid_required_for_non_microsoft_tag() {
        // Tag 0x123 as a plain REPARSE_DATA_BUFFER: ReparseDataLength + 8 == length.
        assert_eq!(err(&hex("23 01 00 00 02 00 00 00 AA BB")), GUID_REQUIRED);
        // Header only, no GUID.
        assert_eq!(err(&hex("23 01 00 00 00 00 00 00")), GUID_REQUIRED);
        // Too short to hold the GUID and lengths inconsistent.
        assert_eq!(err(&hex("23 01 00 00 05 00 00 00 AA BB")), LENGTH_MISMATCH);
        // Builder side.
        assert_eq!(
            ReparseBuffer::other(0x123, None, b"x").unwrap_err().0,
            GUID_REQUIRED
        );
    }

    #[test]
    fn guid_form_for_microsoft_tag_is_invalid() {
        // IO_REPARSE_TAG_DEDUP in REPARSE_GUID_DATA_BUFFER form.
        let mut bytes = hex("13 00 00 80 00 00 00 00");
        bytes.extend_from_slice(&[9; 16]);
        assert_eq!(err(&bytes), GUID_NOT_ALLOWED);
        // Symlink data behind a GUID.
        let plain = hex(CREATE_SYMLINK_C_TARGET);
        let mut guid_form = plain[..8].to_vec();
        guid_form.extend_from_slice(&[0; 16]);
        guid_form.extend_from_slice(&plain[8..]);
        assert_eq!(err(&guid_form), GUID_NOT_ALLOWED);
        assert_eq!(
            ReparseBuffer::other(0x8000_0013, Some([1; 16]), b"")
                .unwrap_err()
                .0,
            GUID_NOT_ALLOWED
        );
    }

    #[test]
    fn reserved_tags_are_invalid_msfscc_2_1_2_1() {
        for tag in [0u32, 1, 2] {
            let mut plain = tag.to_le_bytes().to_vec();
            plain.extend_from_slice(&[0, 0, 0, 0]);
            assert_eq!(err(&plain), RESERVED_TAG);
            let mut guid = plain.clone();
            guid.extend_from_slice(&[1; 16]);
            assert_eq!(err(&guid), RESERVED_TAG);
            assert_eq!(
                ReparseBuffer::other(tag, Some([1; 16]), b"").unwrap_err().0,
                RESERVED_TAG
            );
            assert!(is_reserved_tag(tag));
        }
        assert!(!is_reserved_tag(3));
        // Tag 3 (not reserved, non-Microsoft) is fine with a GUID.
        let mut three = hex("03 00 00 00 00 00 00 00");
        three.extend_from_slice(&[1; 16]);
        assert!(ReparseBuffer::parse(&three).is_ok());
    }

    #[test]
    fn tag_bits_msfscc_2_1_2_1() {
        assert!(is_microsoft_tag(IO_REPARSE_TAG_SYMLINK));
        assert!(is_microsoft_tag(IO_REPARSE_TAG_MOUNT_POINT));
        assert!(is_microsoft_tag(0x8000_0000));
        assert!(!is_microsoft_tag(0x7FFF_FFFF));
        assert!(is_name_surrogate_tag(IO_REPARSE_TAG_SYMLINK));
        assert!(is_name_surrogate_tag(IO_REPARSE_TAG_MOUNT_POINT));
        assert!(!is_name_surrogate_tag(0x8000_0013));
        let dedup = ReparseBuffer::other(0x8000_0013, None, b"").unwrap();
        assert!(!dedup.is_name_surrogate());
        let third_party_surrogate = ReparseBuffer::other(0x2000_0042, Some([3; 16]), b"").unwrap();
        assert!(third_party_surrogate.is_name_surrogate());
    }

    #[test]
    fn symlink_data_shorter_than_12_bytes_is_invalid_msfscc_2_1_2_4() {
        for data_len in 0..12u16 {
            let mut bytes = hex("0C 00 00 A0");
            bytes.extend_from_slice(&data_len.to_le_bytes());
            bytes.extend_from_slice(&[0, 0]);
            bytes.extend(std::iter::repeat_n(0u8, usize::from(data_len)));
            assert_eq!(err(&bytes), SYMLINK_TOO_SHORT, "data length {data_len}");
        }
        // 12 bytes of zeros: two empty names, flags 0 — valid.
        let mut min = hex("0C 00 00 A0 0C 00 00 00");
        min.extend_from_slice(&[0; 12]);
        let b = ReparseBuffer::parse(&min).unwrap();
        assert_eq!(b.substitute_name(), Some(&[][..]));
    }

    #[test]
    fn mount_point_data_shorter_than_8_bytes_is_invalid_msfscc_2_1_2_5() {
        for data_len in 0..8u16 {
            let mut bytes = hex("03 00 00 A0");
            bytes.extend_from_slice(&data_len.to_le_bytes());
            bytes.extend_from_slice(&[0, 0]);
            bytes.extend(std::iter::repeat_n(0u8, usize::from(data_len)));
            assert_eq!(err(&bytes), MOUNT_POINT_TOO_SHORT, "data length {data_len}");
        }
        let mut min = hex("03 00 00 A0 08 00 00 00");
        min.extend_from_slice(&[0; 8]);
        assert!(ReparseBuffer::parse(&min).unwrap().is_mount_point());
    }

    /// Offsets of the four name fields from the start of the buffer.
    const SUB_OFF: usize = 8;
    const SUB_LEN: usize = 10;
    const PRINT_OFF: usize = 12;
    const PRINT_LEN: usize = 14;

    fn with_field(fixture: &str, at: usize, value: u16) -> Vec<u8> {
        let mut bytes = hex(fixture);
        bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
        bytes
    }

    #[test]
    fn odd_name_length_is_invalid() {
        for fixture in [MKLINK_J_C_TARGET, CREATE_SYMLINK_C_TARGET] {
            assert_eq!(err(&with_field(fixture, SUB_LEN, 25)), ODD_LENGTH);
            assert_eq!(err(&with_field(fixture, PRINT_LEN, 17)), ODD_LENGTH);
        }
    }

    #[test]
    fn odd_name_offset_is_invalid() {
        for fixture in [MKLINK_J_C_TARGET, CREATE_SYMLINK_C_TARGET] {
            assert_eq!(err(&with_field(fixture, SUB_OFF, 1)), ODD_OFFSET);
            assert_eq!(err(&with_field(fixture, PRINT_OFF, 3)), ODD_OFFSET);
        }
    }

    #[test]
    fn name_outside_path_buffer_is_invalid() {
        // Junction PathBuffer is 48 bytes, symlink PathBuffer 44.
        assert_eq!(
            err(&with_field(MKLINK_J_C_TARGET, SUB_LEN, 50)),
            NAME_OUTSIDE
        );
        assert_eq!(
            err(&with_field(MKLINK_J_C_TARGET, PRINT_OFF, 32)),
            NAME_OUTSIDE
        );
        assert_eq!(
            err(&with_field(MKLINK_J_C_TARGET, PRINT_OFF, 0xFFFE)),
            NAME_OUTSIDE
        );
        assert_eq!(
            err(&with_field(MKLINK_J_C_TARGET, PRINT_LEN, 0xFFFE)),
            NAME_OUTSIDE
        );
        assert_eq!(
            err(&with_field(CREATE_SYMLINK_C_TARGET, SUB_OFF, 20)),
            NAME_OUTSIDE
        );
        assert_eq!(
            err(&with_field(CREATE_SYMLINK_C_TARGET, PRINT_LEN, 46)),
            NAME_OUTSIDE
        );
        // A name that ends exactly at the end of PathBuffer is inside.
        let edge = with_field(MKLINK_J_C_TARGET, PRINT_LEN, 20);
        assert_eq!(
            ReparseBuffer::parse(&edge)
                .unwrap()
                .print_name()
                .unwrap()
                .last(),
            Some(&0)
        );
    }

    #[test]
    fn symlink_flags_other_than_relative_are_invalid_msfscc_2_1_2_4() {
        let mut bytes = hex(CREATE_SYMLINK_C_TARGET);
        for flags in [2u32, 3, 0x8000_0000, u32::MAX] {
            bytes[16..20].copy_from_slice(&flags.to_le_bytes());
            assert_eq!(err(&bytes), BAD_SYMLINK_FLAGS, "flags {flags:#x}");
        }
        bytes[16..20].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(
            ReparseBuffer::parse(&bytes).unwrap().symlink_flags(),
            Some(SYMLINK_FLAG_RELATIVE)
        );
    }

    #[test]
    fn blank_print_name_junction_is_valid() {
        // Sysinternals `junction` / Go `TestDirectoryJunction/have_blank_print_name`.
        let b = ReparseBuffer::mount_point(&w(r"\??\C:\dir"), &[]).unwrap();
        let again = ReparseBuffer::parse(b.as_bytes()).unwrap();
        assert_eq!(again.print_name(), Some(&[][..]));
        assert_eq!(again.substitute_name(), Some(w(r"\??\C:\dir").as_slice()));
    }

    #[test]
    fn other_with_symlink_tag_decodes_or_refuses() {
        let data = &hex(CREATE_SYMLINK_C_TARGET)[8..];
        let b = ReparseBuffer::other(IO_REPARSE_TAG_SYMLINK, None, data).unwrap();
        assert!(b.is_symlink());
        assert_eq!(b.as_bytes(), hex(CREATE_SYMLINK_C_TARGET).as_slice());
        assert_eq!(
            ReparseBuffer::other(IO_REPARSE_TAG_MOUNT_POINT, None, &[0; 4])
                .unwrap_err()
                .0,
            MOUNT_POINT_TOO_SHORT
        );
    }

    #[test]
    fn delete_header_msfscc_2_3_5() {
        assert_eq!(
            parse_delete_header(&hex("03 00 00 A0 00 00 00 00")),
            Ok((IO_REPARSE_TAG_MOUNT_POINT, None))
        );
        // Microsoft tag in the 24-byte form: accepted, GUID ignored ([MS-FSCC] 2.3.6).
        let mut ms24 = hex("0C 00 00 A0 00 00 00 00");
        ms24.extend_from_slice(&[5; 16]);
        assert_eq!(
            parse_delete_header(&ms24),
            Ok((IO_REPARSE_TAG_SYMLINK, None))
        );
        // Third-party tag: 24 bytes with the GUID.
        let mut tp = hex("23 01 00 00 00 00 00 00");
        tp.extend_from_slice(&[7; 16]);
        assert_eq!(parse_delete_header(&tp), Ok((0x123, Some([7; 16]))));
        assert_eq!(parse_delete_header(&tp[..8]).unwrap_err().0, GUID_REQUIRED);
        // ReparseDataLength must be 0, even when the data is there.
        assert_eq!(
            parse_delete_header(&hex(MKLINK_J_C_TARGET)).unwrap_err().0,
            DELETE_DATA_LENGTH
        );
        // Neither 8 nor 24 bytes.
        assert_eq!(
            parse_delete_header(&hex("03 00 00 A0 00 00 00 00 00 00"))
                .unwrap_err()
                .0,
            DELETE_SIZE
        );
        assert_eq!(parse_delete_header(&[0; 7]).unwrap_err().0, TOO_SHORT);
        assert_eq!(
            parse_delete_header(&hex("01 00 00 00 00 00 00 00"))
                .unwrap_err()
                .0,
            RESERVED_TAG
        );
    }

    #[test]
    fn symlink_for_absolute_target_create_symbolic_link_w() {
        let b = symlink_for_target(&w(r"C:\target"), 'C').unwrap();
        assert_eq!(b.as_bytes(), hex(CREATE_SYMLINK_C_TARGET).as_slice());
        // Another drive, forward slashes, dots: normalised like GetFullPathNameW.
        let b = symlink_for_target(&w("d:/a/./b/../c"), 'C').unwrap();
        assert_eq!(b.substitute_name(), Some(w(r"\??\d:\a\c").as_slice()));
        assert_eq!(b.print_name(), Some(w(r"d:\a\c").as_slice()));
        assert_eq!(b.symlink_flags(), Some(0));
        // `..` never climbs above the drive root; trailing separator kept.
        let b = symlink_for_target(&w(r"C:\..\..\x\"), 'C').unwrap();
        assert_eq!(b.substitute_name(), Some(w(r"\??\C:\x\").as_slice()));
        let root = symlink_for_target(&w(r"C:\"), 'C').unwrap();
        assert_eq!(root.substitute_name(), Some(w(r"\??\C:\").as_slice()));
    }

    #[test]
    fn root_relative_symlink_is_made_absolute_go_test_root_relative_dir_symlink() {
        let b = symlink_for_target(&w(r"\dir\sub"), 'e').unwrap();
        assert_eq!(b.substitute_name(), Some(w(r"\??\E:\dir\sub").as_slice()));
        assert_eq!(b.print_name(), Some(w(r"E:\dir\sub").as_slice()));
        assert_eq!(b.symlink_flags(), Some(0));
        assert_eq!(
            symlink_for_target(&w(r"\dir"), '1').unwrap_err().0,
            BAD_DRIVE
        );
    }

    #[test]
    fn unc_symlink_target_gets_unc_prefix() {
        let b = symlink_for_target(&w(r"\\server\share\x"), 'C').unwrap();
        assert_eq!(
            b.substitute_name(),
            Some(w(r"\??\UNC\server\share\x").as_slice())
        );
        assert_eq!(b.print_name(), Some(w(r"\\server\share\x").as_slice()));
        assert_eq!(b.symlink_flags(), Some(0));
        let bare = symlink_for_target(&w(r"\\server\share"), 'C').unwrap();
        assert_eq!(
            bare.substitute_name(),
            Some(w(r"\??\UNC\server\share").as_slice())
        );
        let dots = symlink_for_target(&w(r"\\server\share\..\..\y"), 'C').unwrap();
        assert_eq!(
            dots.substitute_name(),
            Some(w(r"\??\UNC\server\share\y").as_slice())
        );
    }

    #[test]
    fn nt_and_verbatim_symlink_targets() {
        let nt = symlink_for_target(&w(r"\??\C:\x\..\y"), 'D').unwrap();
        assert_eq!(nt.substitute_name(), Some(w(r"\??\C:\x\..\y").as_slice()));
        assert_eq!(nt.print_name(), Some(w(r"C:\x\..\y").as_slice()));
        let nt_unc = symlink_for_target(&w(r"\??\UNC\srv\sh"), 'D').unwrap();
        assert_eq!(nt_unc.print_name(), Some(w(r"\\srv\sh").as_slice()));
        let verbatim = symlink_for_target(&w(r"\\?\C:\a/b"), 'D').unwrap();
        assert_eq!(
            verbatim.substitute_name(),
            Some(w(r"\??\C:\a/b").as_slice())
        );
        assert_eq!(verbatim.print_name(), Some(w(r"C:\a/b").as_slice()));
        let volume = symlink_for_target(
            &w(r"\\?\Volume{01234567-89ab-cdef-0123-456789abcdef}\"),
            'D',
        )
        .unwrap();
        assert_eq!(
            volume.substitute_name(),
            Some(w(r"\??\Volume{01234567-89ab-cdef-0123-456789abcdef}\").as_slice())
        );
        let device = symlink_for_target(&w(r"\\.\C:\a\..\b"), 'D').unwrap();
        assert_eq!(device.substitute_name(), Some(w(r"\??\C:\b").as_slice()));
        let device_root = symlink_for_target(&w(r"\\.\C:\"), 'D').unwrap();
        assert_eq!(
            device_root.substitute_name(),
            Some(w(r"\??\C:\").as_slice())
        );
    }

    #[test]
    fn relative_symlink_target_sets_symlink_flag_relative() {
        let b = symlink_for_target(&w("../target"), 'C').unwrap();
        assert_eq!(b.as_bytes(), hex(CREATE_SYMLINK_RELATIVE).as_slice());
        let plain = symlink_for_target(&w("file.txt"), 'C').unwrap();
        assert_eq!(plain.symlink_flags(), Some(SYMLINK_FLAG_RELATIVE));
        assert_eq!(plain.substitute_name(), plain.print_name());
    }

    #[test]
    fn drive_relative_and_empty_targets_are_refused() {
        assert_eq!(
            symlink_for_target(&w("C:dir"), 'C').unwrap_err().0,
            DRIVE_RELATIVE
        );
        assert_eq!(
            symlink_for_target(&w("C:"), 'C').unwrap_err().0,
            DRIVE_RELATIVE
        );
        assert_eq!(symlink_for_target(&[], 'C').unwrap_err().0, EMPTY_TARGET);
        assert_eq!(
            symlink_for_target(&[0, 65], 'C').unwrap_err().0,
            EMPTY_TARGET
        );
        assert_eq!(junction_for_target(&[], 'C').unwrap_err().0, EMPTY_TARGET);
        // The target is a C string: it ends at the first NUL.
        let mut nul = w(r"C:\target");
        nul.extend_from_slice(&[0, 65, 66]);
        assert_eq!(
            symlink_for_target(&nul, 'C').unwrap().as_bytes(),
            hex(CREATE_SYMLINK_C_TARGET).as_slice()
        );
    }

    #[test]
    fn junction_for_target_matches_mklink_j() {
        let b = junction_for_target(&w(r"C:\target"), 'C').unwrap();
        assert_eq!(b.as_bytes(), hex(MKLINK_J_C_TARGET).as_slice());
        let rooted = junction_for_target(&w(r"\target"), 'c').unwrap();
        assert_eq!(rooted.as_bytes(), hex(MKLINK_J_C_TARGET).as_slice());
        let slashes = junction_for_target(&w("C:/x/../target"), 'C').unwrap();
        assert_eq!(slashes.as_bytes(), hex(MKLINK_J_C_TARGET).as_slice());
        let nt = junction_for_target(&w(r"\??\C:\target"), 'D').unwrap();
        assert_eq!(nt.as_bytes(), hex(MKLINK_J_C_TARGET).as_slice());
    }

    #[test]
    fn junction_target_must_be_absolute_and_local() {
        for relative in ["target", r"..\target", "./x"] {
            assert_eq!(
                junction_for_target(&w(relative), 'C').unwrap_err().0,
                JUNCTION_RELATIVE
            );
        }
        assert_eq!(
            junction_for_target(&w("C:target"), 'C').unwrap_err().0,
            DRIVE_RELATIVE
        );
        for remote in [r"\\server\share", r"\??\UNC\srv\sh\x", r"\\?\unc\srv\sh"] {
            assert_eq!(
                junction_for_target(&w(remote), 'C').unwrap_err().0,
                JUNCTION_REMOTE,
                "{remote}"
            );
        }
    }

    #[test]
    fn unc_target_needs_server_and_share() {
        for bad in [r"\\", r"\\server", r"\\server\", "//x"] {
            assert_eq!(
                symlink_for_target(&w(bad), 'C').unwrap_err().0,
                INCOMPLETE_UNC,
                "{bad}"
            );
        }
        // Forward slashes are separators in a UNC path too; a trailing one is kept.
        let b = symlink_for_target(&w("//srv/sh/"), 'C').unwrap();
        assert_eq!(b.substitute_name(), Some(w(r"\??\UNC\srv\sh\").as_slice()));
    }

    #[test]
    fn forward_slash_question_mark_prefix_is_not_verbatim() {
        // `//?/C:/a/../b` is a normalised device path, unlike `\\?\`.
        let b = symlink_for_target(&w("//?/C:/a/../b"), 'C').unwrap();
        assert_eq!(b.substitute_name(), Some(w(r"\??\C:\b").as_slice()));
    }

    #[test]
    fn error_display_and_trait() {
        let e = InvalidReparseData(TOO_SHORT);
        assert_eq!(e.to_string(), format!("invalid reparse data: {TOO_SHORT}"));
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.source().is_none());
    }

    /// xorshift64*, so the randomized tests need no dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Whatever parse says, it must not panic, and an accepted buffer must round-trip.
    fn check_no_panic(bytes: &[u8]) -> bool {
        let _ = parse_delete_header(bytes);
        match ReparseBuffer::parse(bytes) {
            Ok(parsed) => {
                assert_eq!(parsed.as_bytes(), bytes);
                assert_eq!(
                    ReparseBuffer::parse(parsed.as_bytes()).as_ref(),
                    Ok(&parsed)
                );
                let _ = (parsed.substitute_name(), parsed.print_name(), parsed.guid());
                true
            }
            Err(_) => false,
        }
    }

    #[test]
    fn randomized_truncated_and_mutated_buffers_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let seeds = [
            hex(MKLINK_J_C_TARGET),
            hex(CREATE_SYMLINK_C_TARGET),
            hex(CREATE_SYMLINK_RELATIVE),
            hex(THIRD_PARTY),
        ];
        let mut accepted = 0;
        for round in 0..20_000 {
            let mut bytes = seeds[round % seeds.len()].clone();
            match rng.below(4) {
                0 => bytes.truncate(rng.below(bytes.len() + 1)),
                1 => {
                    for _ in 0..=rng.below(4) {
                        let i = rng.below(bytes.len());
                        bytes[i] = rng.next() as u8;
                    }
                }
                2 => {
                    // Random name field, keeping the header consistent so the name checks
                    // are what gets exercised.
                    let field = 8 + 2 * rng.below(4);
                    let value = rng.next() as u16 % 96;
                    bytes[field..field + 2].copy_from_slice(&value.to_le_bytes());
                }
                _ => {
                    // Grow or shrink the tail and fix up ReparseDataLength.
                    let new_len = 8 + rng.below(80);
                    bytes.resize(new_len, rng.next() as u8);
                    let header =
                        if is_microsoft_tag(u32::from_le_bytes(bytes[..4].try_into().unwrap())) {
                            8
                        } else {
                            24
                        };
                    let dl = new_len.saturating_sub(header) as u16;
                    bytes[4..6].copy_from_slice(&dl.to_le_bytes());
                }
            }
            if check_no_panic(&bytes) {
                accepted += 1;
            }
        }
        // The mutations must reach the accepting paths too, or the loop proves little.
        assert!(accepted > 1_000, "only {accepted} mutated buffers parsed");
    }

    #[test]
    fn randomized_garbage_never_panics() {
        let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
        let tags = [
            IO_REPARSE_TAG_SYMLINK,
            IO_REPARSE_TAG_MOUNT_POINT,
            0x8000_0013,
            0x123,
            0,
            1,
            2,
        ];
        for _ in 0..20_000 {
            let len = rng.below(120);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if len >= 8 && rng.below(2) == 0 {
                bytes[..4].copy_from_slice(&tags[rng.below(tags.len())].to_le_bytes());
                bytes[4..6].copy_from_slice(&((len - 8) as u16).to_le_bytes());
            }
            check_no_panic(&bytes);
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            for target in [
                units.clone(),
                // Bias towards separators, dots, colons and letters.
                units
                    .iter()
                    .map(|&u| [92, 47, 46, 58, 63, 65, 85][usize::from(u) % 7])
                    .collect(),
            ] {
                for built in [
                    symlink_for_target(&target, 'C'),
                    junction_for_target(&target, 'C'),
                ]
                .into_iter()
                .flatten()
                {
                    check_no_panic(built.as_bytes());
                }
            }
        }
        // Sizes near and past the limit.
        for len in [16_383, 16_384, 16_385, 70_000] {
            let mut big = vec![0u8; len];
            big[..4].copy_from_slice(&IO_REPARSE_TAG_SYMLINK.to_le_bytes());
            big[4..6].copy_from_slice(&((len.min(65_543) - 8) as u16).to_le_bytes());
            check_no_panic(&big);
        }
    }

    #[test]
    fn builders_round_trip_random_names() {
        let mut rng = XorShift(42);
        for _ in 0..2_000 {
            let sub: Vec<u16> = (0..rng.below(40)).map(|_| rng.next() as u16).collect();
            let print: Vec<u16> = (0..rng.below(40)).map(|_| rng.next() as u16).collect();
            let relative = rng.below(2) == 0;
            let s = ReparseBuffer::symlink(&sub, &print, relative).unwrap();
            let again = ReparseBuffer::parse(s.as_bytes()).unwrap();
            assert_eq!(again, s);
            assert_eq!(s.substitute_name(), Some(sub.as_slice()));
            assert_eq!(s.print_name(), Some(print.as_slice()));
            assert_eq!(s.symlink_flags(), Some(u32::from(relative)));
            let m = ReparseBuffer::mount_point(&sub, &print).unwrap();
            assert_eq!(ReparseBuffer::parse(m.as_bytes()).unwrap(), m);
            assert_eq!(m.substitute_name(), Some(sub.as_slice()));
            assert_eq!(m.print_name(), Some(print.as_slice()));
        }
    }
}
