//! Drive images: a whole [`Volume`] in one file, saved atomically and loaded back exactly.
//!
//! An image keeps everything the engine knows about a drive: names with their case, the link
//! structure, FileIds (slot and generation, and the generation of every slot ever used, so ids
//! are still never reused after a load), reparse buffers byte for byte, attributes, the four
//! times, owner, group and mode, security descriptors, extended attributes, case-sensitive
//! flags, the volume's options and file data. Sparse files cost only their allocated chunks.
//! Open handles and backend pins are not part of an image: a saved drive is the drive as it
//! would be once every handle closed (delete-pending names and files that only an open handle
//! keeps alive are left out, as NTFS drops them at the last close; docs/NTFS-RULES.md A2).
//!
//! ```
//! use vfs_core::{image, Volume, VolumeOptions};
//!
//! let vol = Volume::new(VolumeOptions::default());
//! vol.write_file_path(r"\iso.img", b"boot").unwrap();
//! vol.hard_link_path(r"\iso.img", r"\copy.img").unwrap();
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("drive.img");
//! image::save_atomic(&vol, &path).unwrap();
//! let back = image::load_file(&path).unwrap();
//! // The engine's own comparison: names, links, FileIds, data, times... all equal.
//! assert!(back.same_content(&vol));
//! assert_eq!(back.stat_path(r"\copy.img", false).unwrap().links, 2);
//!
//! // A damaged image is refused with its reason, never half loaded.
//! let mut bytes = std::fs::read(&path).unwrap();
//! bytes.truncate(bytes.len() - 1);
//! let err = image::load(&bytes).unwrap_err();
//! assert!(err.to_string().starts_with("image is truncated"), "{err}");
//! ```
//!
//! # File format
//!
//! ```text
//! magic    16 bytes  "NTLINKFS-IMAGE\r\n" (a CRLF or LF translation breaks it visibly)
//! version   u32 LE   FORMAT_VERSION of the writer
//! payload            postcard-encoded Snapshot (layout given by the version)
//! length    u64 LE   payload length in bytes
//! crc32     u32 LE   CRC-32 (IEEE) of every byte before it
//! ```
//!
//! The magic, the version field and the 12-byte trailer are the same in every version, so a
//! reader checks, in this order: the magic (else "not an image"), the length (else
//! "truncated"), the checksum (else "damaged"), then the version (else "newer than this
//! ntlinkfs supports"), and only then decodes. A decoded snapshot is validated in full by
//! [`Volume::from_snapshot`] before any volume exists, so a damaged image never yields half a
//! drive.
//!
//! # Saving atomically
//!
//! [`save_atomic`] writes a temporary file in the image's directory, fsyncs it, renames it
//! over the image and fsyncs the directory: a crash or kill at any moment leaves either the
//! previous image or the new one, never a mix.

use crate::snapshot::InconsistentSnapshot;
pub use crate::snapshot::Snapshot;
use crate::Volume;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The first 16 bytes of every image.
pub const MAGIC: [u8; 16] = *b"NTLINKFS-IMAGE\r\n";

/// The image format this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

const HEADER_LEN: usize = MAGIC.len() + 4;
const TRAILER_LEN: usize = 8 + 4;

/// Why an image could not be saved or loaded. Every malformed input maps to one of these;
/// none makes the loader panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Reading or writing the file failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading", "writing", "renaming to", ...).
        op: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The file does not start with [`MAGIC`].
    #[error("not an ntlinkfs image (the file does not start with the image magic bytes)")]
    NotAnImage,
    /// The file ends before its trailer says it should.
    #[error("image is truncated: {0}")]
    Truncated(String),
    /// The checksum does not match: bytes were changed after the image was written.
    #[error(
        "image is damaged: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
    )]
    ChecksumMismatch {
        /// CRC-32 in the trailer.
        stored: u32,
        /// CRC-32 of the bytes read.
        computed: u32,
    },
    /// Written by a newer ntlinkfs.
    #[error(
        "image format version {found} is newer than this ntlinkfs supports ({supported}); \
         upgrade ntlinkfs to load it"
    )]
    NewerVersion {
        /// The version in the file.
        found: u32,
        /// [`FORMAT_VERSION`].
        supported: u32,
    },
    /// The checksum matched but the payload does not decode (a writer bug, or version 0).
    #[error("image is damaged: {0}")]
    Damaged(String),
    /// The payload decoded but describes a drive that breaks an invariant of the engine.
    #[error("image is inconsistent: {0}")]
    Inconsistent(String),
}

impl From<InconsistentSnapshot> for ImageError {
    fn from(e: InconsistentSnapshot) -> ImageError {
        ImageError::Inconsistent(e.0)
    }
}

impl ImageError {
    /// The errno a FUSE daemon should answer with when a save requested through it fails.
    pub fn errno(&self) -> i32 {
        use crate::error::errno;
        match self {
            ImageError::Io { source, .. } => source.raw_os_error().unwrap_or(match source.kind() {
                io::ErrorKind::NotFound => errno::ENOENT,
                io::ErrorKind::PermissionDenied => errno::EACCES,
                io::ErrorKind::AlreadyExists => errno::EEXIST,
                io::ErrorKind::IsADirectory => errno::EISDIR,
                io::ErrorKind::NotADirectory => errno::ENOTDIR,
                io::ErrorKind::ReadOnlyFilesystem => errno::EROFS,
                _ => errno::EIO,
            }),
            ImageError::NotAnImage
            | ImageError::Truncated(_)
            | ImageError::ChecksumMismatch { .. }
            | ImageError::NewerVersion { .. }
            | ImageError::Damaged(_)
            | ImageError::Inconsistent(_) => errno::EINVAL,
        }
    }

    fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ImageError + 'a {
        move |source| ImageError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Encoding and decoding

/// A writer that keeps a running CRC-32 and byte count.
struct Summing<W: Write> {
    inner: W,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> Write for Summing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `snapshot` as an image to `w` (no atomicity: see [`save_atomic`]).
pub fn write_image<W: Write>(snapshot: &Snapshot, w: W) -> io::Result<W> {
    let mut s = Summing {
        inner: w,
        crc: crc32fast::Hasher::new(),
        len: 0,
    };
    s.write_all(&MAGIC)?;
    s.write_all(&FORMAT_VERSION.to_le_bytes())?;
    let start = s.len;
    let mut s = postcard::to_io(snapshot, s).map_err(|e| match e {
        postcard::Error::SerializeBufferFull => io::Error::other("image writer refused data"),
        other => io::Error::other(other.to_string()),
    })?;
    let payload_len = s.len - start;
    s.write_all(&payload_len.to_le_bytes())?;
    let crc = s.crc.clone().finalize();
    s.inner.write_all(&crc.to_le_bytes())?;
    Ok(s.inner)
}

/// The image bytes of a snapshot.
pub fn encode(snapshot: &Snapshot) -> Vec<u8> {
    write_image(snapshot, Vec::new()).expect("writing to a Vec cannot fail")
}

/// Checks an image's framing and decodes its snapshot (without building a volume).
pub fn decode(bytes: &[u8]) -> Result<Snapshot, ImageError> {
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(ImageError::NotAnImage);
    }
    let min = HEADER_LEN + TRAILER_LEN;
    if bytes.len() < min {
        return Err(ImageError::Truncated(format!(
            "{} bytes, shorter than the {min} bytes of header and trailer",
            bytes.len()
        )));
    }
    let body_end = bytes.len() - TRAILER_LEN;
    let stored_len = u64::from_le_bytes(bytes[body_end..body_end + 8].try_into().expect("8"));
    let stored_crc = u32::from_le_bytes(bytes[body_end + 8..].try_into().expect("4"));
    let payload_len = (body_end - HEADER_LEN) as u64;
    if stored_len != payload_len {
        return Err(ImageError::Truncated(format!(
            "the trailer gives a {stored_len}-byte payload, the file holds {payload_len} \
             (cut short, or the trailer is damaged)"
        )));
    }
    let computed = crc32fast::hash(&bytes[..body_end + 8]);
    if computed != stored_crc {
        return Err(ImageError::ChecksumMismatch {
            stored: stored_crc,
            computed,
        });
    }
    let version = u32::from_le_bytes(bytes[MAGIC.len()..HEADER_LEN].try_into().expect("4"));
    if version > FORMAT_VERSION {
        return Err(ImageError::NewerVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(ImageError::Damaged(
            "format version 0 was never written".into(),
        ));
    }
    let payload = &bytes[HEADER_LEN..body_end];
    let (snapshot, rest) = postcard::take_from_bytes::<Snapshot>(payload)
        .map_err(|e| ImageError::Damaged(format!("the payload does not decode: {e}")))?;
    if !rest.is_empty() {
        return Err(ImageError::Damaged(format!(
            "{} bytes follow the snapshot in the payload",
            rest.len()
        )));
    }
    Ok(snapshot)
}

/// Builds a volume from image bytes: framing, decoding and full validation.
pub fn load(bytes: &[u8]) -> Result<Volume, ImageError> {
    Ok(Volume::from_snapshot(decode(bytes)?)?)
}

/// Reads an image file and builds its volume.
pub fn load_file(path: &Path) -> Result<Volume, ImageError> {
    Ok(Volume::from_snapshot(read_file(path)?)?)
}

/// Reads and decodes an image file without building the volume, e.g. to change the options
/// it will be mounted with ([`Snapshot::set_options`]) before [`Volume::from_snapshot`].
pub fn read_file(path: &Path) -> Result<Snapshot, ImageError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(ImageError::io("reading", path))?;
    decode(&bytes)
}

/// Saves `volume` to `path` atomically: a temporary file in the same directory is written,
/// fsynced and renamed over `path`, then the directory is fsynced. A crash or kill at any
/// point leaves the previous image (or none) intact; the `.ntlinkfs-save-*.tmp` a kill leaves
/// is never read, and the next save into that directory removes it ([`remove_stale_temps`]).
pub fn save_atomic(volume: &Volume, path: &Path) -> Result<(), ImageError> {
    save_snapshot_atomic(&volume.snapshot(), path)
}

/// [`save_atomic`] for a snapshot already taken.
pub fn save_snapshot_atomic(snapshot: &Snapshot, path: &Path) -> Result<(), ImageError> {
    let dir = image_dir(path);
    remove_stale_temps(path)?;
    // Held shared for the whole save: a cleaner (which takes it exclusively, without
    // waiting) never removes the temporary file of a save in progress, in any process.
    #[cfg(unix)]
    let dir_lock = File::open(dir)
        .and_then(|d| d.lock_shared().map(|()| d))
        .map_err(ImageError::io("locking directory", dir))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        // Like a plain create: 0666 less the umask (tempfile's default is 0600).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(ImageError::io("creating a temporary file in", dir))?;
    let w = write_image(snapshot, BufWriter::new(tmp.as_file_mut()))
        .and_then(|mut w| w.flush())
        .and_then(|()| tmp.as_file().sync_all());
    w.map_err(ImageError::io("writing", tmp.path()))?;
    tmp.persist(path)
        .map_err(|e| ImageError::io("renaming the temporary file to", path)(e.error))?;
    #[cfg(unix)]
    dir_lock
        .sync_all()
        .map_err(ImageError::io("syncing directory", dir))?;
    Ok(())
}

/// Names of the temporary files [`save_snapshot_atomic`] writes: `.ntlinkfs-save-XXXXXX.tmp`.
const TEMP_PREFIX: &str = ".ntlinkfs-save-";
const TEMP_SUFFIX: &str = ".tmp";

/// The directory an image file is in.
fn image_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes the temporary files that killed saves left in the directory of image `path`
/// (`.ntlinkfs-save-*.tmp`, full-size partial images nothing else removes); returns how
/// many. Runs at every save and when a drive is mounted from an image. A save in progress in
/// that directory (this process or another) holds the directory's lock shared, so the
/// cleaner, which takes it exclusively without waiting, then removes nothing and leaves the
/// files for the next time. A missing directory has nothing to remove.
pub fn remove_stale_temps(path: &Path) -> Result<usize, ImageError> {
    let dir = image_dir(path);
    #[cfg(unix)]
    {
        let lock = match File::open(dir) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(ImageError::io("opening directory", dir)(e)),
        };
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(0),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(ImageError::io("locking directory", dir)(e))
            }
        }
        let mut removed = 0;
        let entries = std::fs::read_dir(dir).map_err(ImageError::io("listing", dir))?;
        for entry in entries {
            let entry = entry.map_err(ImageError::io("listing", dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(ImageError::io("removing", &entry.path())(e)),
                }
            }
        }
        Ok(removed)
    }
    // Windows: the directory cannot be opened as a file to lock it; nothing is removed.
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(0)
    }
}
