//! Per-file security descriptors. NTFS keeps one security descriptor per file, shared by every
//! name of the file (A1: "Security descriptor, attributes, timestamps, data belong to the
//! file"); the engine stores it as opaque bytes (`Volume::security` / `set_security`). WinFsp
//! exchanges self-relative descriptors (MS-DTYP 2.4.6) and does the access checks itself
//! (`FspAccessCheckEx`, `src/dll/security.c`) against what `get_security_by_name` returns.
//!
//! Files made through WinFsp get the descriptor WinFsp computed from the parent's inheritable
//! ACEs and the creator's token. Files that have none (the root, files from a fixture or an
//! image) answer [`default_descriptor`].

use crate::status::{FsResult, NtStatus};
use vfs_core::{FileId, Volume};

/// STATUS_INVALID_SECURITY_DESCR (MS-ERREF 2.3.1).
pub const STATUS_INVALID_SECURITY_DESCR: NtStatus = NtStatus(0xC000_0079);

/// SE_SELF_RELATIVE (MS-DTYP 2.4.6, Control field "SR").
const SE_SELF_RELATIVE: u16 = 0x8000;
/// SE_DACL_PRESENT ("DP").
const SE_DACL_PRESENT: u16 = 0x0004;
/// ACCESS_ALLOWED_ACE_TYPE (MS-DTYP 2.4.4.1).
const ACCESS_ALLOWED_ACE_TYPE: u8 = 0;
/// OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE (MS-DTYP 2.4.4.1, AceFlags "OI" and "CI").
const INHERIT_TO_FILES_AND_DIRS: u8 = 0x01 | 0x02;
/// FILE_ALL_ACCESS (MS-DTYP 2.4.3; SDDL "FA").
const FILE_ALL_ACCESS: u32 = 0x001F_01FF;
/// ACL_REVISION (MS-DTYP 2.4.5).
const ACL_REVISION: u8 = 2;
/// Size of the self-relative header: Revision, Sbz1, Control, four offsets.
const HEADER: usize = 20;

/// A SID in binary form (MS-DTYP 2.4.2.2): revision 1, authority, sub-authorities.
fn sid(authority: u8, subs: &[u32]) -> Vec<u8> {
    let mut out = vec![1, subs.len() as u8, 0, 0, 0, 0, 0, authority];
    for s in subs {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// The descriptor of files that have none stored, in SDDL
/// `O:BAG:BAD:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;WD)`: owned by Administrators, full
/// control for SYSTEM, Administrators and Everyone, inherited by new files and directories. A
/// test drive that any process on the machine may use, as a freshly formatted NTFS volume's
/// root grants broad access.
pub fn default_descriptor() -> Vec<u8> {
    let system = sid(5, &[18]); // S-1-5-18
    let admins = sid(5, &[32, 544]); // S-1-5-32-544
    let everyone = sid(1, &[0]); // S-1-1-0
    let mut acl_body = Vec::new();
    for who in [&system, &admins, &everyone] {
        let size = (8 + who.len()) as u16;
        acl_body.push(ACCESS_ALLOWED_ACE_TYPE);
        acl_body.push(INHERIT_TO_FILES_AND_DIRS);
        acl_body.extend_from_slice(&size.to_le_bytes());
        acl_body.extend_from_slice(&FILE_ALL_ACCESS.to_le_bytes());
        acl_body.extend_from_slice(who);
    }
    let mut acl = vec![ACL_REVISION, 0];
    acl.extend_from_slice(&((8 + acl_body.len()) as u16).to_le_bytes());
    acl.extend_from_slice(&3u16.to_le_bytes());
    acl.extend_from_slice(&0u16.to_le_bytes());
    acl.extend_from_slice(&acl_body);

    let owner_at = HEADER;
    let group_at = owner_at + admins.len();
    let dacl_at = group_at + admins.len();
    let mut sd = vec![1, 0];
    sd.extend_from_slice(&(SE_SELF_RELATIVE | SE_DACL_PRESENT).to_le_bytes());
    for off in [owner_at, group_at, 0, dacl_at] {
        sd.extend_from_slice(&(off as u32).to_le_bytes());
    }
    sd.extend_from_slice(&admins);
    sd.extend_from_slice(&admins);
    sd.extend_from_slice(&acl);
    sd
}

/// Checks that `sd` is a well-formed self-relative descriptor and returns the length it spans
/// (the end of its furthest part). Bad input gives STATUS_INVALID_SECURITY_DESCR, never a
/// panic.
pub fn check_self_relative(sd: &[u8]) -> FsResult<usize> {
    let bad = STATUS_INVALID_SECURITY_DESCR;
    if sd.len() < HEADER || sd[0] != 1 {
        return Err(bad);
    }
    let control = u16::from_le_bytes([sd[2], sd[3]]);
    if control & SE_SELF_RELATIVE == 0 {
        return Err(bad);
    }
    let offset = |i: usize| u32::from_le_bytes([sd[i], sd[i + 1], sd[i + 2], sd[i + 3]]) as usize;
    let mut end = HEADER;
    for (i, is_acl) in [(4, false), (8, false), (12, true), (16, true)] {
        let at = offset(i);
        if at == 0 {
            continue;
        }
        if at < HEADER {
            return Err(bad);
        }
        let part = sd.get(at..).ok_or(bad)?;
        let len = if is_acl { acl_len(part) } else { sid_len(part) }.ok_or(bad)?;
        end = end.max(at + len);
    }
    Ok(end)
}

fn sid_len(b: &[u8]) -> Option<usize> {
    if b.len() < 8 || b[0] != 1 || b[1] > 15 {
        return None;
    }
    let len = 8 + 4 * b[1] as usize;
    (b.len() >= len).then_some(len)
}

fn acl_len(b: &[u8]) -> Option<usize> {
    if b.len() < 8 || !(2..=4).contains(&b[0]) {
        return None;
    }
    let len = u16::from_le_bytes([b[2], b[3]]) as usize;
    (len >= 8 && b.len() >= len).then_some(len)
}

/// The descriptor of a file: the stored one, or [`default_descriptor`].
pub fn descriptor_of(vol: &Volume, id: FileId) -> FsResult<Vec<u8>> {
    Ok(vol
        .security(id)
        .map_err(NtStatus::from)?
        .unwrap_or_else(default_descriptor))
}

/// Stores a descriptor WinFsp computed (create, SetSecurity) after checking its form.
pub fn store(vol: &Volume, id: FileId, sd: &[u8]) -> FsResult<()> {
    let len = check_self_relative(sd)?;
    vol.set_security(id, Some(sd[..len].to_vec()))
        .map_err(NtStatus::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfs_core::VolumeOptions;

    /// MS-DTYP 2.4.6: the default descriptor is self-relative with owner, group and a DACL of
    /// three inheritable full-control ACEs, and spans exactly its bytes.
    #[test]
    fn default_descriptor_is_well_formed_self_relative() {
        let sd = default_descriptor();
        assert_eq!(check_self_relative(&sd), Ok(sd.len()));
        assert_eq!(sd[0], 1);
        assert_ne!(u16::from_le_bytes([sd[2], sd[3]]) & SE_SELF_RELATIVE, 0);
        // S-1-5-32-544 at the owner offset.
        let owner = u32::from_le_bytes([sd[4], sd[5], sd[6], sd[7]]) as usize;
        assert_eq!(&sd[owner..owner + 16], &sid(5, &[32, 544])[..]);
        let dacl = u32::from_le_bytes([sd[16], sd[17], sd[18], sd[19]]) as usize;
        assert_eq!(u16::from_le_bytes([sd[dacl + 4], sd[dacl + 5]]), 3);
    }

    /// Truncated or garbage descriptors are refused with STATUS_INVALID_SECURITY_DESCR, never
    /// a panic.
    #[test]
    fn malformed_descriptors_are_refused_without_panic() {
        let sd = default_descriptor();
        for cut in 0..sd.len() {
            assert!(check_self_relative(&sd[..cut]).is_err(), "cut at {cut}");
        }
        let mut absolute = sd.clone();
        absolute[3] &= 0x7F;
        assert_eq!(
            check_self_relative(&absolute),
            Err(STATUS_INVALID_SECURITY_DESCR)
        );
        let mut wild = sd.clone();
        wild[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(check_self_relative(&wild).is_err());
    }

    /// A1: the descriptor belongs to the file, so every name reports what one name stored;
    /// a file with none reports the default.
    #[test]
    fn descriptor_is_shared_by_every_name_and_defaults_when_unset() {
        let v = Volume::new(VolumeOptions::default());
        let id = v.create_path(r"\a", &vfs_core::NewFile::file()).unwrap();
        v.hard_link_path(r"\a", r"\b").unwrap();
        assert_eq!(descriptor_of(&v, id).unwrap(), default_descriptor());
        let mut mine = default_descriptor();
        mine.truncate(HEADER);
        mine[4..20].fill(0); // no owner, group or ACLs: still well formed
        store(&v, id, &mine).unwrap();
        let b = v.resolve(r"\b", false).unwrap();
        assert_eq!(descriptor_of(&v, b).unwrap(), mine);
        assert!(store(&v, id, b"junk").is_err());
    }
}
