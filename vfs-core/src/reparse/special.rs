//! POSIX special files as NTFS stores them: reparse points whose tag says what the file is.
//!
//! Windows has four Microsoft reparse tags for files that are neither data nor links
//! ([MS-FSCC] 2.1.2.1, Reparse Tags):
//!
//! | tag | value | file |
//! |---|---|---|
//! | IO_REPARSE_TAG_AF_UNIX | 0x80000023 | an AF_UNIX socket (Windows 10 1803 and later; WSL uses it too) |
//! | IO_REPARSE_TAG_LX_FIFO | 0x80000024 | a FIFO made by WSL |
//! | IO_REPARSE_TAG_LX_CHR | 0x80000025 | a character device node made by WSL |
//! | IO_REPARSE_TAG_LX_BLK | 0x80000026 | a block device node made by WSL |
//!
//! None has the name-surrogate bit (bit 29), so none stands for another file: the path
//! walker never follows them, and opening one without FILE_OPEN_REPARSE_POINT ends in
//! STATUS_IO_REPARSE_TAG_NOT_HANDLED, as on Windows, where no filter owns these tags on a
//! plain NTFS volume (the same rule as any other unhandled tag, A4).
//!
//! # Layout ntlinkfs writes and reads
//!
//! Microsoft documents the tags, not their data. WSL writes the four tags with an empty
//! REPARSE_DATA_BUFFER (ReparseDataLength 0) and keeps the Linux mode, owner and device
//! number in the extended attributes `$LXMOD`, `$LXUID`, `$LXGID` and `$LXDEV`; the Linux
//! SMB client, which reads and writes WSL's special files on Windows shares, reads `$LXDEV`
//! as 8 bytes, the major number (u32 little-endian) then the minor number (u32
//! little-endian). ntlinkfs has no NTFS EAs (its extended attributes are Linux xattrs), so:
//!
//! * AF_UNIX and LX_FIFO: ReparseDataLength 0, exactly as WSL writes them.
//! * LX_CHR and LX_BLK: the device number in the reparse data, in `$LXDEV`'s 8-byte layout
//!   (major u32 LE, minor u32 LE). A buffer with fewer than 8 bytes of data (as WSL writes
//!   it) reads as device 0:0; bytes past the first 8 are kept and ignored.
//! * Mode, owner and group: the engine's owner/mode fields ([`crate::Stat`] `uid`, `gid`,
//!   `mode`), as for every other file, never in the reparse data.
//!
//! Any buffer of these tags is still kept byte for byte (the codec stores what was set), so
//! a buffer written elsewhere survives images, fixtures and `system.ntfs_reparse_data`
//! unchanged.

use super::{InvalidReparseData, ReparseBuffer, ReparseData};

/// IO_REPARSE_TAG_AF_UNIX, an AF_UNIX socket ([MS-FSCC] 2.1.2.1).
pub const IO_REPARSE_TAG_AF_UNIX: u32 = 0x8000_0023;
/// IO_REPARSE_TAG_LX_FIFO, a FIFO made by WSL ([MS-FSCC] 2.1.2.1).
pub const IO_REPARSE_TAG_LX_FIFO: u32 = 0x8000_0024;
/// IO_REPARSE_TAG_LX_CHR, a character device node made by WSL ([MS-FSCC] 2.1.2.1).
pub const IO_REPARSE_TAG_LX_CHR: u32 = 0x8000_0025;
/// IO_REPARSE_TAG_LX_BLK, a block device node made by WSL ([MS-FSCC] 2.1.2.1).
pub const IO_REPARSE_TAG_LX_BLK: u32 = 0x8000_0026;

/// A POSIX special file, as its reparse point describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialFile {
    /// A FIFO (IO_REPARSE_TAG_LX_FIFO).
    Fifo,
    /// An AF_UNIX socket (IO_REPARSE_TAG_AF_UNIX).
    Socket,
    /// A character device node (IO_REPARSE_TAG_LX_CHR).
    CharDevice {
        /// Major device number.
        major: u32,
        /// Minor device number.
        minor: u32,
    },
    /// A block device node (IO_REPARSE_TAG_LX_BLK).
    BlockDevice {
        /// Major device number.
        major: u32,
        /// Minor device number.
        minor: u32,
    },
}

impl SpecialFile {
    /// The reparse tag that stores this kind of file.
    pub fn tag(self) -> u32 {
        match self {
            SpecialFile::Fifo => IO_REPARSE_TAG_LX_FIFO,
            SpecialFile::Socket => IO_REPARSE_TAG_AF_UNIX,
            SpecialFile::CharDevice { .. } => IO_REPARSE_TAG_LX_CHR,
            SpecialFile::BlockDevice { .. } => IO_REPARSE_TAG_LX_BLK,
        }
    }

    /// Whether `tag` is one of the four special-file tags.
    pub fn is_special_tag(tag: u32) -> bool {
        matches!(
            tag,
            IO_REPARSE_TAG_AF_UNIX
                | IO_REPARSE_TAG_LX_FIFO
                | IO_REPARSE_TAG_LX_CHR
                | IO_REPARSE_TAG_LX_BLK
        )
    }

    /// The device number (major, minor) of a device node; `None` for a FIFO or socket.
    pub fn device(self) -> Option<(u32, u32)> {
        match self {
            SpecialFile::CharDevice { major, minor }
            | SpecialFile::BlockDevice { major, minor } => Some((major, minor)),
            SpecialFile::Fifo | SpecialFile::Socket => None,
        }
    }

    /// The name fixtures and dumps use: `fifo`, `socket`, `char`, `block`.
    pub fn kind_name(self) -> &'static str {
        match self {
            SpecialFile::Fifo => "fifo",
            SpecialFile::Socket => "socket",
            SpecialFile::CharDevice { .. } => "char",
            SpecialFile::BlockDevice { .. } => "block",
        }
    }

    /// The special file a fixture names (`kind` one of [`SpecialFile::kind_name`]'s
    /// names) with device number `device` (required for `char` and `block`, refused for
    /// the others). `Err` says what is wrong.
    pub fn from_kind_name(kind: &str, device: Option<(u32, u32)>) -> Result<SpecialFile, String> {
        match (kind, device) {
            ("fifo", None) => Ok(SpecialFile::Fifo),
            ("socket", None) => Ok(SpecialFile::Socket),
            ("char", Some((major, minor))) => Ok(SpecialFile::CharDevice { major, minor }),
            ("block", Some((major, minor))) => Ok(SpecialFile::BlockDevice { major, minor }),
            ("fifo" | "socket", Some(_)) => Err(format!("a {kind} has no device number")),
            ("char" | "block", None) => Err(format!(
                "a {kind} device needs its device number (`device = [MAJOR, MINOR]`)"
            )),
            _ => Err(format!(
                "unknown special file kind `{kind}` (fifo, socket, char or block)"
            )),
        }
    }
}

impl ReparseBuffer {
    /// The reparse buffer ntlinkfs writes for `special` (layout in the module docs).
    pub fn special(special: SpecialFile) -> ReparseBuffer {
        let mut data = Vec::new();
        if let Some((major, minor)) = special.device() {
            data.extend_from_slice(&major.to_le_bytes());
            data.extend_from_slice(&minor.to_le_bytes());
        }
        // A Microsoft tag with at most 8 bytes of data always builds.
        match ReparseBuffer::other(special.tag(), None, &data) {
            Ok(rp) => rp,
            Err(InvalidReparseData(why)) => unreachable!("special-file buffer: {why}"),
        }
    }

    /// The special file this buffer describes, if its tag is one of the four; the device
    /// number of a device node comes from the first 8 bytes of data (0:0 when there are
    /// fewer, as in the buffers WSL writes).
    pub fn special_file(&self) -> Option<SpecialFile> {
        let ReparseData::Other { tag, data, .. } = self.data() else {
            return None;
        };
        let device = || match data.get(..8) {
            Some(b) => (
                u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            ),
            None => (0, 0),
        };
        match *tag {
            IO_REPARSE_TAG_LX_FIFO => Some(SpecialFile::Fifo),
            IO_REPARSE_TAG_AF_UNIX => Some(SpecialFile::Socket),
            IO_REPARSE_TAG_LX_CHR => {
                let (major, minor) = device();
                Some(SpecialFile::CharDevice { major, minor })
            }
            IO_REPARSE_TAG_LX_BLK => {
                let (major, minor) = device();
                Some(SpecialFile::BlockDevice { major, minor })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reparse::{is_microsoft_tag, is_name_surrogate_tag};

    #[test]
    fn tags_are_the_ms_fscc_values_microsoft_and_not_name_surrogates() {
        assert_eq!(IO_REPARSE_TAG_AF_UNIX, 0x8000_0023);
        assert_eq!(IO_REPARSE_TAG_LX_FIFO, 0x8000_0024);
        assert_eq!(IO_REPARSE_TAG_LX_CHR, 0x8000_0025);
        assert_eq!(IO_REPARSE_TAG_LX_BLK, 0x8000_0026);
        for t in [
            IO_REPARSE_TAG_AF_UNIX,
            IO_REPARSE_TAG_LX_FIFO,
            IO_REPARSE_TAG_LX_CHR,
            IO_REPARSE_TAG_LX_BLK,
        ] {
            assert!(is_microsoft_tag(t));
            assert!(!is_name_surrogate_tag(t));
            assert!(SpecialFile::is_special_tag(t));
        }
        assert!(!SpecialFile::is_special_tag(
            crate::reparse::IO_REPARSE_TAG_SYMLINK
        ));
    }

    #[test]
    fn fifo_and_socket_buffers_are_headers_only_as_wsl_writes_them() {
        let f = ReparseBuffer::special(SpecialFile::Fifo);
        assert_eq!(f.as_bytes(), &[0x24, 0, 0, 0x80, 0, 0, 0, 0]);
        assert_eq!(f.special_file(), Some(SpecialFile::Fifo));
        let s = ReparseBuffer::special(SpecialFile::Socket);
        assert_eq!(s.as_bytes(), &[0x23, 0, 0, 0x80, 0, 0, 0, 0]);
        assert_eq!(s.special_file(), Some(SpecialFile::Socket));
    }

    #[test]
    fn device_buffers_carry_major_then_minor_little_endian() {
        let c = ReparseBuffer::special(SpecialFile::CharDevice {
            major: 0x0102_0304,
            minor: 7,
        });
        assert_eq!(
            c.as_bytes(),
            &[0x25, 0, 0, 0x80, 8, 0, 0, 0, 4, 3, 2, 1, 7, 0, 0, 0]
        );
        assert_eq!(
            ReparseBuffer::parse(c.as_bytes()).unwrap().special_file(),
            Some(SpecialFile::CharDevice {
                major: 0x0102_0304,
                minor: 7
            })
        );
        let b = ReparseBuffer::special(SpecialFile::BlockDevice { major: 8, minor: 1 });
        assert_eq!(b.tag(), IO_REPARSE_TAG_LX_BLK);
        assert_eq!(b.special_file().unwrap().device(), Some((8, 1)));
    }

    #[test]
    fn a_wsl_device_buffer_without_data_reads_as_device_zero() {
        let rp = ReparseBuffer::parse(&[0x26, 0, 0, 0x80, 0, 0, 0, 0]).unwrap();
        assert_eq!(
            rp.special_file(),
            Some(SpecialFile::BlockDevice { major: 0, minor: 0 })
        );
        // Extra bytes are kept and ignored.
        let long = [
            0x25, 0, 0, 0x80, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0xAA, 0xBB,
        ];
        let rp = ReparseBuffer::parse(&long).unwrap();
        assert_eq!(rp.as_bytes(), &long);
        assert_eq!(rp.special_file().unwrap().device(), Some((1, 2)));
    }

    #[test]
    fn other_tags_are_not_special() {
        let rp = crate::reparse::symlink_for_target(&crate::name::wide("x"), 'C').unwrap();
        assert_eq!(rp.special_file(), None);
        let rp = ReparseBuffer::other(0x8000_0017, None, b"wof").unwrap();
        assert_eq!(rp.special_file(), None);
    }

    #[test]
    fn fixture_kind_names_round_trip_and_bad_ones_say_why() {
        for s in [
            SpecialFile::Fifo,
            SpecialFile::Socket,
            SpecialFile::CharDevice { major: 1, minor: 3 },
            SpecialFile::BlockDevice { major: 8, minor: 0 },
        ] {
            assert_eq!(
                SpecialFile::from_kind_name(s.kind_name(), s.device()),
                Ok(s)
            );
        }
        assert!(SpecialFile::from_kind_name("char", None)
            .unwrap_err()
            .contains("device number"));
        assert!(SpecialFile::from_kind_name("fifo", Some((1, 1)))
            .unwrap_err()
            .contains("no device"));
        assert!(SpecialFile::from_kind_name("door", None)
            .unwrap_err()
            .contains("unknown"));
    }
}
