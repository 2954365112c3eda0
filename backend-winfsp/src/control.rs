//! The control channel: hard links through a WinFsp mount.
//!
//! WinFsp's driver refuses FileLinkInformation (what CreateHardLinkW sends) and
//! FileHardLinkInformation (what FindFirstFileNameW asks) with STATUS_NOT_SUPPORTED and always
//! reports NumberOfLinks = 1 (`src/sys/fileinfo.c`; `doc/NTFS-Compatibility.asciidoc`: "Hard
//! links" are unsupported). It does forward DeviceIoControl requests to the file system when
//! the volume has `DeviceControl` on, but only for **custom device types** (bit 15 of the
//! device type set) with **METHOD_BUFFERED**, from user mode, with at most
//! `FSP_FSCTL_DEVICECONTROL_SIZEMAX` = 4096 bytes each way (`src/sys/devctl.c`,
//! `inc/winfsp/fsctl.h`). A code built on FILE_DEVICE_FILE_SYSTEM would reach the driver as a
//! file-system control and be refused, so the codes here use the custom device type
//! [`DEVICE_TYPE`] ('N','L' with bit 15), functions 0x801 and 0x802 (0x800 and up are the
//! customer range of CTL_CODE), METHOD_BUFFERED and FILE_ANY_ACCESS.
//!
//! The request may be sent on any handle of the volume (`ntlinkfs link` opens the root). It is
//! carried out by the file system process: no Windows access check is made on the directories
//! involved, as on a test drive everyone has full control (see [`crate::security`]).
//!
//! # Encoding (version 1, little-endian)
//!
//! A string is `u16` length in UTF-16 units, then the units (WTF-16; no terminator). Paths are
//! volume-relative NT paths: `\dir\name`.
//!
//! | message | layout |
//! |---|---|
//! | request header | `u16 version = 1`, `u16 op` (1 CreateHardLink, 2 ListNames; must match the code) |
//! | CreateHardLink | header, `u32 flags = 0`, string existing, string new |
//! | ListNames | header, `u32 first` (index of the first name wanted), string path |
//! | reply header | `u16 version = 1`, `u16 op` |
//! | CreateHardLink reply | header, `u64 file_id`, `u32 links` (the file's names after the call) |
//! | ListNames reply | header, `u64 file_id`, `u32 total`, `u32 next`, `u16 count`, then `count` × (`u16 flags` (bit 0: delete-pending), string path) |
//!
//! ListNames returns as many names as fit in the caller's output buffer; `next` is the index to
//! ask for next (`next == total` when done). Malformed requests (short, trailing bytes, unknown
//! version, op not matching the code, invalid path, nonzero flags) fail with
//! STATUS_INVALID_PARAMETER and never panic; an unknown code fails with
//! STATUS_INVALID_DEVICE_REQUEST, what WinFsp answers for unimplemented requests.

use crate::path;
use crate::status::{
    FsResult, NtStatus, STATUS_BUFFER_TOO_SMALL, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_PARAMETER,
};
use vfs_core::Volume;

/// Custom device type (bit 15 set, so WinFsp forwards it): 0x8000 | 'N' << 8 | 'L'.
pub const DEVICE_TYPE: u32 = 0x8000 | ((b'N' as u32) << 8) | b'L' as u32;
/// METHOD_BUFFERED.
pub const METHOD_BUFFERED: u32 = 0;
/// FILE_ANY_ACCESS.
pub const FILE_ANY_ACCESS: u32 = 0;

/// CTL_CODE(DeviceType, Function, Method, Access) from the Windows DDK (devioctl.h).
pub const fn ctl_code(device_type: u32, function: u32, method: u32, access: u32) -> u32 {
    (device_type << 16) | (access << 14) | (function << 2) | method
}

/// Creates a hard link: CreateHardLink request and reply.
pub const IOCTL_CREATE_HARD_LINK: u32 =
    ctl_code(DEVICE_TYPE, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS);
/// Lists a file's names: ListNames request and reply.
pub const IOCTL_LIST_NAMES: u32 = ctl_code(DEVICE_TYPE, 0x802, METHOD_BUFFERED, FILE_ANY_ACCESS);

/// The protocol version this build speaks.
pub const VERSION: u16 = 1;
/// Largest request or reply WinFsp carries (`FSP_FSCTL_DEVICECONTROL_SIZEMAX`).
pub const MAX_MESSAGE: usize = 4096;

const OP_CREATE_HARD_LINK: u16 = 1;
const OP_LIST_NAMES: u16 = 2;
/// Bit 0 of a listed name's flags: the name is delete-pending (legacy delete, A2).
pub const NAME_DELETE_PENDING: u16 = 1;

/// A decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// CreateHardLinkW(new, existing).
    CreateHardLink {
        /// Existing name (its last component is not followed: a symlink is linked itself, A1).
        existing: Vec<u16>,
        /// The new name.
        new: Vec<u16>,
    },
    /// FindFirstFileNameW / FindNextFileNameW.
    ListNames {
        /// The file (last component not followed).
        path: Vec<u16>,
        /// Index of the first name wanted.
        first: u32,
    },
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The link exists now.
    Linked {
        /// The file's id (IndexNumber).
        file_id: u64,
        /// Its number of names after the call (WinFsp itself always reports 1).
        links: u32,
    },
    /// Some names of a file.
    Names {
        /// The file's id.
        file_id: u64,
        /// How many names the file has.
        total: u32,
        /// The index to ask for next; equals `total` when every name was returned.
        next: u32,
        /// (volume-relative path, delete-pending) for names `first..next`.
        names: Vec<(Vec<u16>, bool)>,
    },
}

/// Why a message could not be decoded or encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// The message ends early.
    Truncated,
    /// Bytes follow the message.
    TrailingBytes,
    /// Another protocol version.
    Version(u16),
    /// The op does not match the control code, or is unknown.
    Op(u16),
    /// Reserved flags are set.
    Flags(u32),
    /// A message would exceed [`MAX_MESSAGE`] bytes.
    TooLong,
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProtocolError::Truncated => write!(f, "control message ends early"),
            ProtocolError::TrailingBytes => write!(f, "control message has trailing bytes"),
            ProtocolError::Version(v) => {
                write!(f, "control protocol version {v} (this is {VERSION})")
            }
            ProtocolError::Op(o) => write!(f, "control op {o} does not match the request"),
            ProtocolError::Flags(x) => write!(f, "reserved control flags {x:#x} are set"),
            ProtocolError::TooLong => write!(
                f,
                "the paths do not fit in WinFsp's {MAX_MESSAGE}-byte control message"
            ),
        }
    }
}

impl std::error::Error for ProtocolError {}

impl From<ProtocolError> for NtStatus {
    fn from(_: ProtocolError) -> NtStatus {
        STATUS_INVALID_PARAMETER
    }
}

// ---------------------------------------------------------------------------- wire helpers

struct Writer(Vec<u8>);

impl Writer {
    fn header(op: u16) -> Writer {
        let mut w = Writer(Vec::new());
        w.u16(VERSION);
        w.u16(op);
        w
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, s: &[u16]) -> Result<(), ProtocolError> {
        let len = u16::try_from(s.len()).map_err(|_| ProtocolError::TooLong)?;
        self.u16(len);
        for u in s {
            self.u16(*u);
        }
        Ok(())
    }
    fn finish(self) -> Result<Vec<u8>, ProtocolError> {
        if self.0.len() > MAX_MESSAGE {
            Err(ProtocolError::TooLong)
        } else {
            Ok(self.0)
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let (head, rest) = self.0.split_at_checked(N).ok_or(ProtocolError::Truncated)?;
        self.0 = rest;
        Ok(head.try_into().expect("split_at_checked gave N bytes"))
    }
    fn u16(&mut self) -> Result<u16, ProtocolError> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, ProtocolError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, ProtocolError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn string(&mut self) -> Result<Vec<u16>, ProtocolError> {
        let len = self.u16()? as usize;
        if self.0.len() < len * 2 {
            return Err(ProtocolError::Truncated);
        }
        (0..len).map(|_| self.u16()).collect()
    }
    fn header(&mut self, op: u16) -> Result<(), ProtocolError> {
        let version = self.u16()?;
        if version != VERSION {
            return Err(ProtocolError::Version(version));
        }
        let got = self.u16()?;
        if got != op {
            return Err(ProtocolError::Op(got));
        }
        Ok(())
    }
    fn end(&self) -> Result<(), ProtocolError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ProtocolError::TrailingBytes)
        }
    }
}

// ---------------------------------------------------------------------------- requests

/// Encodes a request and gives the control code to send it with.
pub fn encode_request(req: &Request) -> Result<(u32, Vec<u8>), ProtocolError> {
    match req {
        Request::CreateHardLink { existing, new } => {
            let mut w = Writer::header(OP_CREATE_HARD_LINK);
            w.u32(0);
            w.string(existing)?;
            w.string(new)?;
            Ok((IOCTL_CREATE_HARD_LINK, w.finish()?))
        }
        Request::ListNames { path, first } => {
            let mut w = Writer::header(OP_LIST_NAMES);
            w.u32(*first);
            w.string(path)?;
            Ok((IOCTL_LIST_NAMES, w.finish()?))
        }
    }
}

/// Decodes a request received with control code `code`. `Ok(None)`: not one of ours.
pub fn decode_request(code: u32, input: &[u8]) -> Result<Option<Request>, ProtocolError> {
    let mut r = Reader(input);
    let req = match code {
        IOCTL_CREATE_HARD_LINK => {
            r.header(OP_CREATE_HARD_LINK)?;
            let flags = r.u32()?;
            if flags != 0 {
                return Err(ProtocolError::Flags(flags));
            }
            let existing = r.string()?;
            let new = r.string()?;
            Request::CreateHardLink { existing, new }
        }
        IOCTL_LIST_NAMES => {
            r.header(OP_LIST_NAMES)?;
            let first = r.u32()?;
            let path = r.string()?;
            Request::ListNames { path, first }
        }
        _ => return Ok(None),
    };
    r.end()?;
    Ok(Some(req))
}

// ---------------------------------------------------------------------------- replies

/// Encodes a reply (the file system side).
pub fn encode_reply(reply: &Reply) -> Result<Vec<u8>, ProtocolError> {
    match reply {
        Reply::Linked { file_id, links } => {
            let mut w = Writer::header(OP_CREATE_HARD_LINK);
            w.u64(*file_id);
            w.u32(*links);
            w.finish()
        }
        Reply::Names {
            file_id,
            total,
            next,
            names,
        } => {
            let mut w = Writer::header(OP_LIST_NAMES);
            w.u64(*file_id);
            w.u32(*total);
            w.u32(*next);
            w.u16(u16::try_from(names.len()).map_err(|_| ProtocolError::TooLong)?);
            for (p, pending) in names {
                w.u16(if *pending { NAME_DELETE_PENDING } else { 0 });
                w.string(p)?;
            }
            w.finish()
        }
    }
}

/// Decodes the reply to a request sent with `code` (the client side).
pub fn decode_reply(code: u32, bytes: &[u8]) -> Result<Reply, ProtocolError> {
    let mut r = Reader(bytes);
    let reply = match code {
        IOCTL_CREATE_HARD_LINK => {
            r.header(OP_CREATE_HARD_LINK)?;
            Reply::Linked {
                file_id: r.u64()?,
                links: r.u32()?,
            }
        }
        IOCTL_LIST_NAMES => {
            r.header(OP_LIST_NAMES)?;
            let file_id = r.u64()?;
            let total = r.u32()?;
            let next = r.u32()?;
            let count = r.u16()?;
            let mut names = Vec::new();
            for _ in 0..count {
                let flags = r.u16()?;
                names.push((r.string()?, flags & NAME_DELETE_PENDING != 0));
            }
            Reply::Names {
                file_id,
                total,
                next,
                names,
            }
        }
        _ => return Err(ProtocolError::Op(0)),
    };
    r.end()?;
    Ok(reply)
}

// ---------------------------------------------------------------------------- the file system side

/// Serves one DeviceControl request against the volume; the reply is at most `output_len`
/// bytes.
pub fn serve(vol: &Volume, code: u32, input: &[u8], output_len: usize) -> FsResult<Vec<u8>> {
    let req = decode_request(code, input)?.ok_or(STATUS_INVALID_DEVICE_REQUEST)?;
    let output_len = output_len.min(MAX_MESSAGE);
    let reply = match req {
        Request::CreateHardLink { existing, new } => {
            path::components(&existing)?;
            path::components(&new)?;
            let id = vol
                .hard_link_path(&existing, &new)
                .map_err(NtStatus::from)?;
            let links = vol.stat(id).map_err(NtStatus::from)?.links;
            encode_reply(&Reply::Linked {
                file_id: id.0,
                links,
            })?
        }
        Request::ListNames { path: p, first } => {
            path::components(&p)?;
            let id = vol.resolve(&p, false).map_err(NtStatus::from)?;
            let all = vol.link_paths(id).map_err(NtStatus::from)?;
            let total = all.len() as u32;
            if first > total {
                return Err(STATUS_INVALID_PARAMETER);
            }
            // Take names while the encoded reply still fits the caller's buffer.
            let mut names: Vec<(Vec<u16>, bool)> = Vec::new();
            let mut size = 4 + 8 + 4 + 4 + 2;
            for link in all.into_iter().skip(first as usize) {
                let (p, pending) = (link.path, link.delete_pending);
                let entry = 2 + 2 + 2 * p.len();
                if size + entry > output_len {
                    break;
                }
                size += entry;
                names.push((p, pending));
            }
            let next = first + names.len() as u32;
            if size > output_len || (names.is_empty() && next < total) {
                return Err(STATUS_BUFFER_TOO_SMALL);
            }
            encode_reply(&Reply::Names {
                file_id: id.0,
                total,
                next,
                names,
            })?
        }
    };
    if reply.len() > output_len {
        return Err(STATUS_BUFFER_TOO_SMALL);
    }
    Ok(reply)
}

// ---------------------------------------------------------------------------- the client side

/// A Win32 path on a drive-letter mount (`X:\dir\name`, `X:/dir/name`, `\\?\X:\dir\name`)
/// split into its drive letter and the volume-relative NT path the protocol carries
/// (`\dir\name`). Relative paths and UNC paths are refused: make the path absolute first.
pub fn volume_relative(win32_path: &str) -> Result<(char, Vec<u16>), String> {
    let p = win32_path
        .strip_prefix(r"\\?\")
        .or_else(|| win32_path.strip_prefix(r"\??\"))
        .unwrap_or(win32_path);
    let mut chars = p.chars();
    let (letter, colon) = (chars.next(), chars.next());
    let letter = match (letter, colon) {
        (Some(l), Some(':')) if l.is_ascii_alphabetic() => l.to_ascii_uppercase(),
        _ => {
            return Err(format!(
                "{win32_path}: give a full path on the mounted drive, like N:\\dir\\file"
            ))
        }
    };
    let rest: String = chars.collect();
    let comps: Vec<&str> = rest
        .split(['\\', '/'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let mut out: Vec<&str> = Vec::new();
    for c in comps {
        if c == ".." {
            out.pop();
        } else {
            out.push(c);
        }
    }
    let mut w = Vec::new();
    for c in &out {
        w.push(b'\\' as u16);
        w.extend(c.encode_utf16());
    }
    if w.is_empty() {
        w.push(b'\\' as u16);
    }
    Ok((letter, w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfs_core::name::{narrow, wide};
    use vfs_core::{Error, VolumeOptions};

    /// devctl.c: WinFsp forwards only custom device types (bit 15) with METHOD_BUFFERED; the
    /// functions are in the customer range (0x800+); CTL_CODE packs them as devioctl.h does.
    #[test]
    fn control_codes_use_a_custom_device_type_and_method_buffered() {
        for code in [IOCTL_CREATE_HARD_LINK, IOCTL_LIST_NAMES] {
            let device_type = code >> 16;
            assert_ne!(device_type & 0x8000, 0);
            assert_eq!(code & 3, METHOD_BUFFERED);
            assert!((code >> 2) & 0xFFF >= 0x800);
            assert_eq!((code >> 14) & 3, FILE_ANY_ACCESS);
        }
        assert_ne!(IOCTL_CREATE_HARD_LINK, IOCTL_LIST_NAMES);
        // CTL_CODE(FILE_DEVICE_FILE_SYSTEM = 9, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
        assert_eq!(ctl_code(9, 0x800, 0, 0), 0x0009_2000);
    }

    /// Requests and replies survive an encode/decode round trip, WTF-16 included.
    #[test]
    fn requests_and_replies_round_trip() {
        let lone = vec![b'\\' as u16, 0xDC00, b'a' as u16];
        let reqs = [
            Request::CreateHardLink {
                existing: wide(r"\a\b"),
                new: lone.clone(),
            },
            Request::ListNames {
                path: wide(r"\x"),
                first: 7,
            },
        ];
        for req in reqs {
            let (code, bytes) = encode_request(&req).unwrap();
            assert_eq!(decode_request(code, &bytes), Ok(Some(req)));
        }
        let replies = [
            (
                IOCTL_CREATE_HARD_LINK,
                Reply::Linked {
                    file_id: u64::MAX,
                    links: 1024,
                },
            ),
            (
                IOCTL_LIST_NAMES,
                Reply::Names {
                    file_id: 5,
                    total: 3,
                    next: 2,
                    names: vec![(wide(r"\a"), false), (lone, true)],
                },
            ),
        ];
        for (code, reply) in replies {
            let bytes = encode_reply(&reply).unwrap();
            assert_eq!(decode_reply(code, &bytes), Ok(reply));
        }
    }

    /// Malformed input is STATUS_INVALID_PARAMETER (never a panic): every truncation, trailing
    /// bytes, another version, a mismatched op, reserved flags; unknown codes are not ours.
    #[test]
    fn malformed_requests_are_invalid_parameter_and_never_panic() {
        let v = Volume::new(VolumeOptions::default());
        let (code, bytes) = encode_request(&Request::CreateHardLink {
            existing: wide(r"\a"),
            new: wide(r"\b"),
        })
        .unwrap();
        for cut in 0..bytes.len() {
            assert_eq!(
                serve(&v, code, &bytes[..cut], MAX_MESSAGE),
                Err(STATUS_INVALID_PARAMETER),
                "cut {cut}"
            );
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            decode_request(code, &trailing),
            Err(ProtocolError::TrailingBytes)
        );
        let mut version = bytes.clone();
        version[0] = 9;
        assert_eq!(
            decode_request(code, &version),
            Err(ProtocolError::Version(9))
        );
        assert_eq!(
            decode_request(IOCTL_LIST_NAMES, &bytes),
            Err(ProtocolError::Op(OP_CREATE_HARD_LINK))
        );
        let mut flags = bytes.clone();
        flags[4] = 1;
        assert_eq!(decode_request(code, &flags), Err(ProtocolError::Flags(1)));
        assert_eq!(
            serve(&v, 0x1234, &bytes, MAX_MESSAGE),
            Err(STATUS_INVALID_DEVICE_REQUEST)
        );
        // A length prefix larger than the message, and pseudo-random bytes.
        assert!(decode_request(code, &[1, 0, 1, 0, 0, 0, 0, 0, 0xFF, 0xFF]).is_err());
        let mut x: u32 = 0x1234_5678;
        for len in 0..300 {
            let junk: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            for c in [IOCTL_CREATE_HARD_LINK, IOCTL_LIST_NAMES] {
                let _ = serve(&v, c, &junk, MAX_MESSAGE);
                let _ = decode_reply(c, &junk);
            }
        }
    }

    /// A1 through the channel: the new name shares data and FileId; the engine's link count
    /// comes back (WinFsp itself reports 1); CreateHardLinkW's errors come back as NTSTATUS.
    #[test]
    fn create_hard_link_request_makes_a_second_name_with_createhardlinkw_errors() {
        let v = Volume::new(VolumeOptions::default());
        v.write_file_path(r"\a", b"x").unwrap();
        v.create_path(r"\d", &vfs_core::NewFile::dir()).unwrap();
        let send = |existing: &str, new: &str| {
            let (code, bytes) = encode_request(&Request::CreateHardLink {
                existing: wide(existing),
                new: wide(new),
            })
            .unwrap();
            serve(&v, code, &bytes, MAX_MESSAGE)
                .and_then(|r| decode_reply(code, &r).map_err(NtStatus::from))
        };
        let id = v.resolve(r"\a", false).unwrap().0;
        assert_eq!(
            send(r"\a", r"\d\B"),
            Ok(Reply::Linked {
                file_id: id,
                links: 2
            })
        );
        assert_eq!(v.read_file_path(r"\d\b").unwrap(), b"x");
        assert_eq!(send(r"\a", r"\D\b"), Err(Error::NameCollision.into()));
        assert_eq!(send(r"\d", r"\d2"), Err(Error::FileIsADirectory.into()));
        assert_eq!(
            send(r"\nope", r"\n2"),
            Err(Error::ObjectNameNotFound.into())
        );
        assert_eq!(
            send(r"\a", r"\no\n2"),
            Err(Error::ObjectPathNotFound.into())
        );
        assert_eq!(send(r"\a", r"\bad*"), Err(Error::ObjectNameInvalid.into()));
        v.check().unwrap();
    }

    /// A1 FindFirstFileNameW: every name, `\dir\name` form, paged to fit the caller's buffer
    /// with `next`; a buffer too small for one name is STATUS_BUFFER_TOO_SMALL.
    #[test]
    fn list_names_pages_through_every_name_to_fit_the_buffer() {
        let v = Volume::new(VolumeOptions::default());
        v.create_path(r"\d", &vfs_core::NewFile::dir()).unwrap();
        v.create_path(r"\d\f0", &vfs_core::NewFile::file()).unwrap();
        for i in 1..40 {
            v.hard_link_path(r"\d\f0", &format!(r"\d\f{i}")).unwrap();
        }
        let mut first = 0;
        let mut got = Vec::new();
        loop {
            let (code, bytes) = encode_request(&Request::ListNames {
                path: wide(r"\d\F7"),
                first,
            })
            .unwrap();
            let out = serve(&v, code, &bytes, 120).unwrap();
            assert!(out.len() <= 120);
            let Reply::Names {
                total, next, names, ..
            } = decode_reply(code, &out).unwrap()
            else {
                panic!("wrong reply")
            };
            assert_eq!(total, 40);
            got.extend(names.into_iter().map(|(p, _)| narrow(&p)));
            if next == total {
                break;
            }
            first = next;
        }
        let want: Vec<String> = (0..40).map(|i| format!(r"\d\f{i}")).collect();
        assert_eq!(got, want);
        let (code, bytes) = encode_request(&Request::ListNames {
            path: wide(r"\d\f0"),
            first: 0,
        })
        .unwrap();
        assert_eq!(serve(&v, code, &bytes, 30), Err(STATUS_BUFFER_TOO_SMALL));
        let (code, bytes) = encode_request(&Request::ListNames {
            path: wide(r"\d\f0"),
            first: 41,
        })
        .unwrap();
        assert_eq!(serve(&v, code, &bytes, 4096), Err(STATUS_INVALID_PARAMETER));
    }

    /// Paths too long for WinFsp's 4096-byte message are refused before sending.
    #[test]
    fn requests_longer_than_winfsp_carries_are_refused_by_the_encoder() {
        let long = wide(&format!(r"\{}", "x\\".repeat(1100)));
        assert_eq!(
            encode_request(&Request::CreateHardLink {
                existing: long.clone(),
                new: long
            }),
            Err(ProtocolError::TooLong)
        );
    }

    /// `ntlinkfs link N:\a N:\b` carries `\a` and `\b`: drive letter and volume-relative path,
    /// `.` and `..` applied, `/` accepted, relative paths refused.
    #[test]
    fn win32_paths_become_drive_and_volume_relative_paths() {
        assert_eq!(
            volume_relative(r"n:\dir\.\x\..\file").unwrap(),
            ('N', wide(r"\dir\file"))
        );
        assert_eq!(
            volume_relative(r"\\?\N:/a/b").unwrap(),
            ('N', wide(r"\a\b"))
        );
        assert_eq!(volume_relative("N:").unwrap(), ('N', wide(r"\")));
        assert!(volume_relative(r"dir\file").is_err());
        assert!(volume_relative(r"\\server\share\f").is_err());
    }
}
