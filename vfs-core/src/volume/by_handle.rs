//! Operations through an open handle, as NtSetInformationFile, NtQueryInformationFile and
//! NtQueryDirectoryFile perform them: FileLinkInformation[Ex] (A1), FileRenameInformation[Ex]
//! through the handle (A6), FILE_DISPOSITION_ON_CLOSE (A2), the handle's own
//! FILE_STANDARD_INFORMATION.DeletePending (A2), and directory queries with a name pattern.
//!
//! A link or rename target is named as NTFS receives it: a full path from the volume root
//! (`\dir\name`), a bare name (no `\`) that stays in the directory of the handle's name, or a
//! name relative to a RootDirectory handle (FILE_LINK_INFORMATION docs, "RootDirectory" and
//! "FileName"). The I/O manager opens the target's directory for write access before the file
//! system sees the request, so a handle on that directory that does not share write refuses it
//! (WinBtrfs links.cpp "Try create link through directory handle": STATUS_SHARING_VIOLATION).

use super::store::{Handle, State};
use super::Volume;
use crate::error::{Error, Result};
use crate::name::Name;
use crate::path::VolumePath;
use crate::pattern::{matches_everything, name_in_expression};
use crate::types::*;
use tracing::trace_span;

/// FILE_LINK_INFORMATION_EX flags (FILE_LINK_INFORMATION docs,
/// <https://learn.microsoft.com/windows-hardware/drivers/ddi/ntifs/ns-ntifs-_file_link_information>;
/// MS-FSCC 2.4.27). FileLinkInformation's ReplaceIfExists is `replace_if_exists` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkFlags {
    /// FILE_LINK_REPLACE_IF_EXISTS (0x1): an existing file of that name is replaced.
    pub replace_if_exists: bool,
    /// FILE_LINK_POSIX_SEMANTICS (0x2): with replace, a target with open handles is replaced
    /// (they keep working) when every handle shares delete.
    pub posix_semantics: bool,
    /// FILE_LINK_IGNORE_READONLY_ATTRIBUTE (0x40): with replace, a read-only target is replaced.
    pub ignore_readonly: bool,
}

impl LinkFlags {
    /// FILE_LINK_REPLACE_IF_EXISTS
    pub const REPLACE_IF_EXISTS: u32 = 0x1;
    /// FILE_LINK_POSIX_SEMANTICS
    pub const POSIX_SEMANTICS: u32 = 0x2;
    /// FILE_LINK_IGNORE_READONLY_ATTRIBUTE
    pub const IGNORE_READONLY_ATTRIBUTE: u32 = 0x40;

    /// The flags of a FILE_LINK_INFORMATION_EX. The storage-reserve flags (0x8 … 0x180) have
    /// no meaning on a volume without storage reserves and are ignored.
    pub fn from_bits(bits: u32) -> LinkFlags {
        LinkFlags {
            replace_if_exists: bits & Self::REPLACE_IF_EXISTS != 0,
            posix_semantics: bits & Self::POSIX_SEMANTICS != 0,
            ignore_readonly: bits & Self::IGNORE_READONLY_ATTRIBUTE != 0,
        }
    }
}

/// FILE_DISPOSITION_ON_CLOSE in FILE_DISPOSITION_INFORMATION_EX.Flags
/// (<https://learn.microsoft.com/windows-hardware/drivers/ddi/ntddk/ns-ntddk-_file_disposition_information_ex>).
pub const FILE_DISPOSITION_ON_CLOSE: u32 = 0x8;

/// Where a directory query of one handle stands (NtQueryDirectoryFile keeps it in the file
/// object: the pattern of the first call and the position).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DirQuery {
    /// The FileName of the first call (None or `*`: every name).
    pattern: Option<Box<[u16]>>,
    /// `.` and `..` already returned (0, 1 or 2; the root has neither).
    dots: u8,
    /// The last index entry returned.
    cursor: Option<DirCursor>,
    /// A call of this scan has been answered already (the first one's empty answer is
    /// STATUS_NO_SUCH_FILE, later ones' STATUS_NO_MORE_FILES).
    answered: bool,
}

const DOT: &[u16] = &[b'.' as u16];
const DOTDOT: &[u16] = &[b'.' as u16, b'.' as u16];
const BACKSLASH: u16 = b'\\' as u16;

impl Volume {
    /// NtSetInformationFile(FileLinkInformation[Ex]) on handle `h`: gives the handle's file a
    /// new name `name` (a full path, a bare name in the directory of the handle's name, or a
    /// name relative to the directory handle `root`). No access right is needed on the handle
    /// (FILE_LINK_INFORMATION docs, Remarks). Directory → FileIsADirectory; the target's
    /// directory is a file → InvalidParameter (WinBtrfs links.cpp). An existing target: without
    /// replace → NameCollision; another name of this same file → nothing happens, or it takes
    /// the new case (WinBtrfs "Create link with same name [but different case]"); a directory →
    /// AccessDenied; read-only without IGNORE_READONLY_ATTRIBUTE → AccessDenied; open →
    /// AccessDenied, or with POSIX semantics replaced when every handle shares delete
    /// (SharingViolation otherwise) (WinBtrfs links.cpp test_links / test_links_ex).
    pub fn link_by_handle(
        &self,
        h: HandleId,
        root: Option<HandleId>,
        name: &(impl VolumePath + ?Sized),
        flags: LinkFlags,
    ) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "link_by_handle").entered();
        self.writable()?;
        // Converted before the lock is taken.
        let name = name.units();
        let mut st = self.state.write();
        let handle = st.handles.get(&h.0).ok_or(Error::InvalidHandle)?.clone();
        let id = handle.file;
        let inode = st.get(id)?;
        if inode.is_dir() {
            return Err(Error::FileIsADirectory);
        }
        if inode.links.is_empty() {
            return Err(Error::FileDeleted);
        }
        let (parent, name) = self.handle_target_locked(&st, &handle, root, &name)?;
        check_target_dir(&st, parent)?;
        let t = now();
        let existing = st
            .dir(parent)?
            .find(&name)
            .map(|n| (n.id(), n.display.clone(), n.pending()));
        if let Some((dst_id, dst_display, dst_pending)) = existing {
            if !flags.replace_if_exists {
                return Err(Error::NameCollision);
            }
            if dst_id == id {
                // The name already names this file: linking over it changes at most its case
                // (WinBtrfs links.cpp "link9": NumberOfLinks stays 1, the name becomes LINK9).
                if *dst_display != *name.display() {
                    st.unlink_entry_keep(parent, &dst_display, id, t);
                    st.link_in(parent, &name, id, t);
                    st.move_handle_links(id, (parent, &dst_display), (parent, name.display()));
                    st.get_mut(id)?.times.change = t;
                }
                return Ok(());
            }
            if dst_pending {
                return Err(Error::DeletePending);
            }
            let dst = st.get(dst_id)?;
            if dst.is_dir() {
                // WinBtrfs links.cpp "Try overwriting directory by link". With POSIX semantics
                // too: a link never replaces a directory [VERIFY on Windows].
                return Err(Error::AccessDenied);
            }
            if dst.attributes & attrs::READONLY != 0 && !flags.ignore_readonly {
                return Err(Error::AccessDenied);
            }
            if dst.opens > 0 {
                if !flags.posix_semantics {
                    return Err(Error::AccessDenied);
                }
                if let Some(sa) = st.share.get(&dst_id) {
                    sa.check(Access::DELETE, Share::ALL)?;
                }
            }
            if st.get(id)?.links.len() >= self.opts.max_links {
                return Err(Error::TooManyLinks);
            }
            st.unlink_entry(parent, &dst_display, t);
        } else if st.get(id)?.links.len() >= self.opts.max_links {
            return Err(Error::TooManyLinks);
        }
        st.link_in(parent, &name, id, t);
        st.get_mut(id)?.times.change = t;
        Ok(())
    }

    /// NtSetInformationFile(FileRenameInformation[Ex]) on handle `h`: moves the name the
    /// handle was opened through to `name` (full path, bare name in the same directory, or
    /// relative to the directory handle `root`), with the rules of [`Volume::rename`] (A6).
    /// The handle needs DELETE access (WinBtrfs rename.cpp "Try renaming file without DELETE
    /// access": STATUS_ACCESS_DENIED); it opens nothing more, so other handles' share modes
    /// were checked when this handle was opened. A handle opened by id has no name to move
    /// (InvalidParameter); a name already gone → FileDeleted.
    pub fn rename_by_handle(
        &self,
        h: HandleId,
        root: Option<HandleId>,
        name: &(impl VolumePath + ?Sized),
        flags: RenameFlags,
    ) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "rename_by_handle").entered();
        self.writable()?;
        // Converted before the lock is taken.
        let name = name.units();
        let mut st = self.state.write();
        let handle = st.handles.get(&h.0).ok_or(Error::InvalidHandle)?.clone();
        if !handle.access.delete {
            return Err(Error::AccessDenied);
        }
        let (src_parent, src_display) = handle.link.clone().ok_or(Error::InvalidParameter)?;
        let named = st
            .dir(src_parent)?
            .find_exact(&src_display)
            .is_some_and(|n| n.id() == handle.file);
        if !named {
            return Err(Error::FileDeleted);
        }
        let src_name = Name::new(&src_display)?;
        let (dst_parent, dst_name) = self.handle_target_locked(&st, &handle, root, &name)?;
        check_target_dir(&st, dst_parent)?;
        self.rename_locked(
            &mut st, src_parent, &src_name, dst_parent, &dst_name, flags, false,
        )
        .map(drop)
    }

    /// FileDispositionInformationEx with FILE_DISPOSITION_ON_CLOSE: sets (`delete`) or clears
    /// the handle's delete-on-close state, the one FILE_DELETE_ON_CLOSE gives at open, instead
    /// of the file's delete disposition; the name stays openable until the handle closes
    /// (FILE_DISPOSITION_INFORMATION_EX docs). Needs DELETE access (as FILE_DELETE_ON_CLOSE
    /// does) and a name; setting it on a read-only file → CannotDelete (MS-FSA 2.1.5.1.2: a
    /// read-only file opened with FILE_DELETE_ON_CLOSE) [VERIFY on Windows].
    pub fn set_disposition_on_close(&self, h: HandleId, delete: bool) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "set_disposition_on_close").entered();
        self.writable()?;
        let mut st = self.state.write();
        let handle = st.handles.get(&h.0).ok_or(Error::InvalidHandle)?.clone();
        if !handle.access.delete {
            return Err(Error::AccessDenied);
        }
        if handle.link.is_none() {
            return Err(Error::InvalidParameter);
        }
        if delete && st.get(handle.file)?.attributes & attrs::READONLY != 0 {
            return Err(Error::CannotDelete);
        }
        st.handles.get_mut(&h.0).expect("checked").delete_on_close = delete;
        Ok(())
    }

    /// What NtQueryInformationFile(FileStandardInformation) and GetFileInformationByHandle
    /// report through handle `h`: the file's [`Stat`] with `delete_pending` as MS-FSA
    /// 2.1.5.12.27 FileStandardInformation sets it for this open — the handle's own name is
    /// deleted or delete-pending, or no name of the file is left (NumberOfLinks 0). A delete
    /// through another name of the file does not show here (WinBtrfs links.cpp, delete.cpp).
    pub fn stat_handle(&self, h: HandleId) -> Result<Stat> {
        let st = self.state.read();
        let handle = st.handles.get(&h.0).ok_or(Error::InvalidHandle)?;
        let mut stat = st.stat(handle.file)?;
        let own_deleted = match &handle.link {
            Some((parent, display)) => st
                .dir(*parent)
                .ok()
                .and_then(|d| d.find_exact(display))
                .is_none_or(|n| n.id() != handle.file || n.pending()),
            None => false,
        };
        stat.delete_pending = own_deleted || (stat.links == 0 && handle.file != st.root);
        Ok(stat)
    }

    /// NtQueryDirectoryFile on directory handle `h`: up to `limit` entries (at least one) that
    /// match the FileName `pattern` of the scan's first call (FsRtlIsNameInExpression, DOS
    /// wildcards `*` `?` `<` `>` `"`, case-insensitive unless the directory is case-sensitive,
    /// A5), `.` and `..` first except in the root, then NTFS collation order. Later calls
    /// continue where the last one stopped and ignore `pattern` (Wine ntdll tests/directory.c
    /// passes a non-matching mask on later calls and still gets the rest); `restart`
    /// (SL_RESTART_SCAN) starts over, with `pattern` if one is given (Wine accepts either
    /// reading; [VERIFY on Windows]). Nothing matched on the first call → NoSuchFile; the end
    /// reached on a later or restarted call → NoMoreFiles (NtQueryDirectoryFile docs; Wine
    /// directory.c `expect_empty`; WinBtrfs query_dir). A handle on a file → InvalidParameter.
    pub fn query_directory(
        &self,
        h: HandleId,
        pattern: Option<&[u16]>,
        restart: bool,
        limit: usize,
    ) -> Result<Vec<DirEntry>> {
        let _s = trace_span!(target: "vfs_core", "query_directory").entered();
        let limit = limit.max(1);
        let mut st = self.state.write();
        let handle = st.handles.get(&h.0).ok_or(Error::InvalidHandle)?;
        let dir_id = handle.file;
        let mut q = match (&handle.query, restart) {
            (Some(q), false) => (**q).clone(),
            (old, _) => DirQuery {
                pattern: pattern
                    .map(Into::into)
                    .or_else(|| old.as_ref().and_then(|q| q.pattern.clone())),
                // A restarted scan is no first call: nothing matching then is
                // STATUS_NO_MORE_FILES (Wine ntdll tests/directory.c, "mask may or may not be
                // ignored when restarting the search": SUCCESS or NO_MORE_FILES; native NTFS on
                // Windows 10 22H2 answered NO_MORE_FILES, dokan-dev/dokany#1158).
                answered: old.as_ref().is_some_and(|q| q.answered),
                ..DirQuery::default()
            },
        };
        let dir = st.get(dir_id)?.dir().ok_or(Error::InvalidParameter)?;
        let ignore_case = !dir.case_sensitive;
        let pattern = q.pattern.clone();
        let wanted = |name: &[u16]| match &pattern {
            None => true,
            Some(p) if p.is_empty() || matches_everything(p) => true,
            Some(p) => name_in_expression(p, name, ignore_case),
        };
        let mut out = Vec::new();
        if dir_id != st.root {
            let parent = st.get(dir_id)?.links.first().map_or(st.root, |l| l.parent);
            while q.dots < 2 && out.len() < limit {
                let (name, id) = if q.dots == 0 {
                    (DOT, dir_id)
                } else {
                    (DOTDOT, parent)
                };
                q.dots += 1;
                if wanted(name) {
                    out.push(DirEntry {
                        name: name.to_vec(),
                        cursor: DirCursor::after_name(name),
                        stat: st.stat(id)?,
                    });
                }
            }
        }
        if out.len() < limit {
            let start = q.cursor.take();
            q.cursor = start.clone();
            for (canon, named) in dir.iter_after(start.as_ref()) {
                q.cursor = Some(DirCursor::new(canon, &named.display));
                if wanted(&named.display) {
                    out.push(DirEntry {
                        name: named.display.to_vec(),
                        cursor: q.cursor.clone().expect("just set"),
                        stat: st.stat(named.id())?,
                    });
                    if out.len() >= limit {
                        break;
                    }
                }
            }
        }
        let first = !q.answered;
        q.answered = true;
        st.handles.get_mut(&h.0).expect("checked").query = Some(Box::new(q));
        if out.is_empty() {
            return Err(if first {
                Error::NoSuchFile
            } else {
                Error::NoMoreFiles
            });
        }
        Ok(out)
    }

    /// The directory and name a link or rename through `handle` targets.
    fn handle_target_locked(
        &self,
        st: &State,
        handle: &Handle,
        root: Option<HandleId>,
        name: &[u16],
    ) -> Result<(FileId, Name)> {
        if let Some(r) = root {
            let rh = st.handles.get(&r.0).ok_or(Error::InvalidHandle)?;
            if st.get(rh.file)?.dir().is_none() {
                return Err(Error::InvalidParameter);
            }
            if !name.contains(&BACKSLASH) {
                // The documented form: "only the file name", created in that directory.
                return Ok((rh.file, Name::new(name)?));
            }
            // A relative path below it: walk from the directory's current name (a directory
            // has one name, invariant 1), not from the name the handle was opened through,
            // which may be gone or name another file by now.
            let mut path = if rh.file == st.root {
                Vec::new()
            } else {
                let l = st.get(rh.file)?.links.first().ok_or(Error::FileDeleted)?;
                st.path_of(l.parent, &l.display)
            };
            path.push(BACKSLASH);
            path.extend_from_slice(name);
            return self.target_parent_and_name(st, &path);
        }
        if !name.contains(&BACKSLASH) {
            // A bare name: the new name goes in the directory of the handle's name
            // (FILE_LINK_INFORMATION / FILE_RENAME_INFORMATION docs, "RootDirectory").
            let (parent, _) = handle.link.clone().ok_or(Error::InvalidParameter)?;
            return Ok((parent, Name::new(name)?));
        }
        self.target_parent_and_name(st, name)
    }
}

/// The target directory is opened for write access sharing read and write (the I/O manager's
/// open of a link or rename target); the checks the path-level operations make on it too.
fn check_target_dir(st: &State, parent: FileId) -> Result<()> {
    st.new_name_parent(parent, Error::InvalidParameter)?;
    if let Some(sa) = st.share.get(&parent) {
        let write = Access {
            read: false,
            write: true,
            delete: false,
        };
        sa.check(write, Share::READ_WRITE)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::reparse::{symlink_for_target, IO_REPARSE_TAG_SYMLINK};
    use crate::wtf16::{narrow, wide};
    use crate::*;

    fn vol() -> Volume {
        Volume::new(VolumeOptions::default())
    }

    fn open(v: &Volume, path: &str, access: Access, share: Share) -> HandleId {
        v.open_path(
            path,
            &OpenOptions {
                access,
                share,
                ..OpenOptions::default()
            },
        )
        .unwrap()
        .handle
    }

    const RD: Access = Access {
        read: true,
        write: false,
        delete: true,
    };
    const REPLACE: LinkFlags = LinkFlags {
        replace_if_exists: true,
        posix_semantics: false,
        ignore_readonly: false,
    };

    fn names(v: &Volume, path: &str) -> Vec<String> {
        let id = v.resolve(path, false).unwrap();
        let mut n: Vec<String> = v
            .link_paths(id)
            .unwrap()
            .iter()
            .map(|l| l.to_string_lossy())
            .collect();
        n.sort();
        n
    }

    /// WinBtrfs reparse.cpp "Overwrite symlink": FILE_OPEN_REPARSE_POINT + FILE_OVERWRITE
    /// makes the link a plain empty file; without the flag the target is overwritten and the
    /// link stays (issue 18 item 1).
    #[test]
    fn overwriting_a_reparse_point_opened_as_itself_removes_it() {
        for disposition in [
            Disposition::Overwrite,
            Disposition::OverwriteIf,
            Disposition::Supersede,
        ] {
            let v = vol();
            v.write_file_path(r"\t", b"target").unwrap();
            let l = v.create_symlink(r"\l", r"t", false).unwrap();
            let through = OpenOptions {
                disposition,
                ..OpenOptions::default()
            };
            let h = v.open_path(r"\l", &through).unwrap().handle;
            v.close(h).unwrap();
            assert_eq!(v.stat(l).unwrap().reparse_tag, Some(IO_REPARSE_TAG_SYMLINK));
            assert_eq!(v.read_file_path(r"\t").unwrap(), b"");
            v.write_file_path(r"\t", b"target").unwrap();
            let itself = OpenOptions {
                open_reparse_point: true,
                ..through
            };
            let o = v.open_path(r"\l", &itself).unwrap();
            let h = o.handle;
            assert!(!o.created);
            assert_eq!(v.handle_file(h).unwrap(), l);
            v.write(l, 0, b"own").unwrap();
            v.close(h).unwrap();
            let st = v.stat(l).unwrap();
            assert_eq!(st.reparse_tag, None, "{disposition:?}");
            assert_eq!(st.attributes & attrs::REPARSE_POINT, 0);
            assert_eq!(v.read_file_path(r"\l").unwrap(), b"own");
            assert_eq!(v.read_file_path(r"\t").unwrap(), b"target");
            v.check().unwrap();
        }
    }

    /// WinBtrfs create.cpp "Try to open orphaned inode by file ID": a POSIX-deleted file kept
    /// by a handle opens by id with STATUS_DELETE_PENDING (issue 18 item 4); once freed its id
    /// is stale (STATUS_INVALID_PARAMETER, "Try to open invalid ID").
    #[test]
    fn open_by_id_of_posix_deleted_open_file_is_delete_pending() {
        let v = vol();
        let id = v.write_file_path(r"\f", b"x").unwrap();
        let h = open(&v, r"\f", Access::READ, Share::ALL);
        v.delete_path(r"\f", UnlinkKind::File).unwrap();
        assert_eq!(
            v.open(id, Access::READ, Share::ALL),
            Err(Error::DeletePending)
        );
        v.close(h).unwrap();
        let e = v.open(id, Access::READ, Share::ALL).unwrap_err();
        assert_eq!(e.ntstatus(), Error::InvalidParameter.ntstatus());
        v.check().unwrap();
    }

    /// WinBtrfs links.cpp: FileLinkInformation with and without ReplaceIfExists.
    #[test]
    fn link_by_handle_replace_rules() {
        let v = vol();
        v.write_file_path(r"\a", b"a").unwrap();
        v.write_file_path(r"\b", b"b").unwrap();
        v.create_path(r"\d", &NewFile::dir()).unwrap();
        let ro = v.create_path(r"\ro", &NewFile::file()).unwrap();
        v.set_attributes(ro, attrs::READONLY).unwrap();
        let h = open(&v, r"\a", Access::DELETE, Share::ALL);
        let none = LinkFlags::default();
        assert_eq!(
            v.link_by_handle(h, None, &wide(r"\b"), none),
            Err(Error::NameCollision)
        );
        assert_eq!(
            v.link_by_handle(h, None, &wide(r"\d"), REPLACE),
            Err(Error::AccessDenied)
        );
        assert_eq!(
            v.link_by_handle(h, None, &wide(r"\ro"), REPLACE),
            Err(Error::AccessDenied)
        );
        let ignore = LinkFlags::from_bits(
            LinkFlags::REPLACE_IF_EXISTS | LinkFlags::IGNORE_READONLY_ATTRIBUTE,
        );
        v.link_by_handle(h, None, &wide(r"\ro"), ignore).unwrap();
        assert_eq!(v.read_file_path(r"\ro").unwrap(), b"a");
        let hb = open(&v, r"\b", Access::READ, Share::ALL);
        assert_eq!(
            v.link_by_handle(h, None, &wide(r"\b"), REPLACE),
            Err(Error::AccessDenied),
            "open target without POSIX semantics (link8)"
        );
        v.close(hb).unwrap();
        v.link_by_handle(h, None, &wide(r"\b"), REPLACE).unwrap();
        assert_eq!(v.read_file_path(r"\b").unwrap(), b"a");
        assert_eq!(names(&v, r"\a"), [r"\a", r"\b", r"\ro"]);
        // Into a file used as a directory: STATUS_INVALID_PARAMETER (link18).
        assert_eq!(
            v.link_by_handle(h, None, &wide(r"\b\x"), none),
            Err(Error::InvalidParameter)
        );
        // A directory cannot be linked (link2).
        let hd = open(&v, r"\d", Access::NONE, Share::ALL);
        assert_eq!(
            v.link_by_handle(hd, None, &wide(r"\e"), none),
            Err(Error::FileIsADirectory)
        );
        v.close(hd).unwrap();
        v.close(h).unwrap();
        v.check().unwrap();
    }

    /// WinBtrfs links.cpp "link9": linking a file over its own name is nothing, or a re-case.
    #[test]
    fn link_by_handle_over_its_own_name_recases_it() {
        let v = vol();
        v.create_path(r"\link9", &NewFile::file()).unwrap();
        let h = open(&v, r"\link9", Access::READ, Share::ALL);
        assert_eq!(
            v.link_by_handle(h, None, &wide(r"\link9"), LinkFlags::default()),
            Err(Error::NameCollision)
        );
        v.link_by_handle(h, None, &wide(r"\link9"), REPLACE)
            .unwrap();
        v.link_by_handle(h, None, &wide(r"\LINK9"), REPLACE)
            .unwrap();
        assert_eq!(names(&v, r"\link9"), [r"\LINK9"]);
        assert_eq!(v.stat_handle(h).unwrap().links, 1);
        assert_eq!(v.handle_link(h).unwrap().unwrap().name, wide("LINK9"));
        v.close(h).unwrap();
        v.check().unwrap();
    }

    /// WinBtrfs links.cpp test_links_ex "linkex3": a POSIX link replaces an open target that
    /// shares delete; its handle then reports DeletePending and no links; without
    /// FILE_SHARE_DELETE → STATUS_SHARING_VIOLATION.
    #[test]
    fn posix_link_replaces_an_open_target() {
        let v = vol();
        v.write_file_path(r"\a", b"a").unwrap();
        v.write_file_path(r"\b", b"b").unwrap();
        v.write_file_path(r"\c", b"c").unwrap();
        let h = open(&v, r"\a", Access::READ, Share::ALL);
        let h2 = open(&v, r"\b", RD, Share::ALL);
        let posix = LinkFlags::from_bits(LinkFlags::REPLACE_IF_EXISTS | LinkFlags::POSIX_SEMANTICS);
        v.link_by_handle(h, None, &wide(r"\b"), posix).unwrap();
        let s1 = v.stat_handle(h).unwrap();
        assert_eq!((s1.links, s1.delete_pending), (2, false));
        let s2 = v.stat_handle(h2).unwrap();
        assert_eq!((s2.links, s2.delete_pending), (0, true));
        let mut buf = [0u8; 1];
        v.read(v.handle_file(h2).unwrap(), 0, &mut buf).unwrap();
        assert_eq!(&buf, b"b");
        let h3 = open(&v, r"\c", Access::READ, Share::READ_WRITE);
        assert_eq!(
            v.link_by_handle(h, None, &wide(r"\c"), posix),
            Err(Error::SharingViolation)
        );
        for x in [h, h2, h3] {
            v.close(x).unwrap();
        }
        v.check().unwrap();
    }

    /// WinBtrfs links.cpp "link5"/"link6" and rename.cpp "via RootDirectory handle": names
    /// relative to a directory handle; a directory handle that does not share write refuses.
    #[test]
    fn link_and_rename_relative_to_a_root_directory_handle() {
        let v = vol();
        v.create_path(r"\dir", &NewFile::dir()).unwrap();
        v.write_file_path(r"\f", b"f").unwrap();
        let h = open(&v, r"\f", Access::DELETE, Share::ALL);
        let dh = open(&v, r"\dir", Access::READ, Share::NONE);
        assert_eq!(
            v.link_by_handle(h, Some(dh), &wide("file"), LinkFlags::default()),
            Err(Error::SharingViolation)
        );
        v.close(dh).unwrap();
        let share_write = Share {
            read: false,
            write: true,
            delete: false,
        };
        let dh = open(&v, r"\dir", Access::READ, share_write);
        v.link_by_handle(h, Some(dh), &wide("file"), LinkFlags::default())
            .unwrap();
        assert_eq!(names(&v, r"\f"), [r"\dir\file", r"\f"]);
        v.rename_by_handle(h, Some(dh), &wide("moved"), RenameFlags::default())
            .unwrap();
        assert_eq!(names(&v, r"\dir\moved"), [r"\dir\file", r"\dir\moved"]);
        // A bare name stays in the directory of the handle's name.
        v.rename_by_handle(h, None, &wide("again"), RenameFlags::default())
            .unwrap();
        assert_eq!(
            narrow(&v.handle_link(h).unwrap().unwrap().name),
            "again".to_string()
        );
        assert!(v.resolve(r"\dir\again", false).is_ok());
        // A RootDirectory that is a file → STATUS_INVALID_PARAMETER.
        v.create_path(r"\plain", &NewFile::file()).unwrap();
        let fh = open(&v, r"\plain", Access::READ, Share::ALL);
        assert_eq!(
            v.rename_by_handle(h, Some(fh), &wide("x"), RenameFlags::default()),
            Err(Error::InvalidParameter)
        );
        for x in [h, dh, fh] {
            v.close(x).unwrap();
        }
        v.check().unwrap();
    }

    /// A relative path below the RootDirectory handle walks from the directory's current
    /// name; a RootDirectory whose directory was deleted takes no new names.
    #[test]
    fn relative_paths_follow_the_directory_not_its_old_name() {
        let v = vol();
        v.create_path(r"\d", &NewFile::dir()).unwrap();
        v.create_path(r"\d\sub", &NewFile::dir()).unwrap();
        v.write_file_path(r"\f", b"f").unwrap();
        let h = open(&v, r"\f", Access::DELETE, Share::ALL);
        let dh = open(&v, r"\d", Access::READ, Share::ALL);
        // The directory moves and another takes its old name.
        v.rename_path(r"\d", r"\moved", RenameFlags::default())
            .unwrap();
        v.create_path(r"\d", &NewFile::dir()).unwrap();
        v.rename_by_handle(h, Some(dh), &wide(r"sub\g"), RenameFlags::default())
            .unwrap();
        assert!(v.resolve(r"\moved\sub\g", false).is_ok());
        v.close(dh).unwrap();
        let eh = open(&v, r"\d", Access::DELETE, Share::ALL);
        v.delete_path(r"\d", UnlinkKind::Directory).unwrap();
        assert_eq!(
            v.link_by_handle(h, Some(eh), &wide("x"), LinkFlags::default()),
            Err(Error::FileDeleted)
        );
        v.close(eh).unwrap();
        v.close(h).unwrap();
        v.check().unwrap();
    }

    /// WinBtrfs rename.cpp: renaming needs DELETE access; a directory does not replace a
    /// directory ("renamefile8" is created with FILE_DIRECTORY_FILE); the target's directory
    /// being a file is STATUS_INVALID_PARAMETER. A directory does replace a file (Wine ntdll
    /// test_file_rename_information "oldpath is a directory, newpath is a file, Replace = TRUE").
    #[test]
    fn rename_by_handle_checks_access_and_targets() {
        let v = vol();
        v.create_path(r"\a", &NewFile::file()).unwrap();
        v.create_path(r"\b", &NewFile::file()).unwrap();
        v.create_path(r"\d", &NewFile::dir()).unwrap();
        let h = open(&v, r"\a", Access::READ, Share::ALL);
        assert_eq!(
            v.rename_by_handle(h, None, &wide(r"\c"), RenameFlags::default()),
            Err(Error::AccessDenied)
        );
        v.close(h).unwrap();
        let h = open(&v, r"\a", Access::DELETE, Share::NONE);
        assert_eq!(
            v.rename_by_handle(h, None, &wide(r"\b\x"), RenameFlags::default()),
            Err(Error::InvalidParameter)
        );
        // The handle itself does not share delete and still renames (it opens nothing more).
        v.rename_by_handle(h, None, &wide(r"\c"), RenameFlags::default())
            .unwrap();
        v.close(h).unwrap();
        v.create_path(r"\d2", &NewFile::dir()).unwrap();
        let hd = open(&v, r"\d", Access::DELETE, Share::ALL);
        let replace = RenameFlags {
            replace_if_exists: true,
            ..RenameFlags::default()
        };
        assert_eq!(
            v.rename_by_handle(hd, None, &wide(r"\d2"), replace),
            Err(Error::AccessDenied)
        );
        v.create_path(r"\f", &NewFile::file()).unwrap();
        v.rename_by_handle(hd, None, &wide(r"\f"), replace).unwrap();
        assert!(v.stat_path(r"\f", false).unwrap().kind == FileKind::Directory);
        v.close(hd).unwrap();
        let byid = v.open(v.resolve(r"\b", false).unwrap(), Access::DELETE, Share::ALL);
        assert_eq!(
            v.rename_by_handle(byid.unwrap(), None, &wide("z"), RenameFlags::default()),
            Err(Error::InvalidParameter)
        );
        v.close(byid.unwrap()).unwrap();
        v.check().unwrap();
    }

    /// FILE_DISPOSITION_ON_CLOSE sets or clears the handle's delete-on-close state: the name
    /// stays openable until the close, and clearing it keeps the file
    /// (FILE_DISPOSITION_INFORMATION_EX docs; WinBtrfs delete.cpp FILE_DELETE_ON_CLOSE cases).
    #[test]
    fn disposition_on_close_sets_and_clears_delete_on_close() {
        let v = vol();
        v.create_path(r"\f", &NewFile::file()).unwrap();
        let h = open(&v, r"\f", Access::DELETE, Share::ALL);
        v.set_disposition_on_close(h, true).unwrap();
        let h2 = open(&v, r"\f", Access::READ, Share::ALL);
        assert!(!v.stat_handle(h2).unwrap().delete_pending);
        v.close(h2).unwrap();
        v.close(h).unwrap();
        assert_eq!(v.resolve(r"\f", false), Err(Error::ObjectNameNotFound));

        v.create_path(r"\g", &NewFile::file()).unwrap();
        let h = v
            .open_path(
                r"\g",
                &OpenOptions {
                    access: Access::DELETE,
                    delete_on_close: true,
                    ..OpenOptions::default()
                },
            )
            .unwrap()
            .handle;
        v.set_disposition_on_close(h, false).unwrap();
        v.close(h).unwrap();
        assert!(v.resolve(r"\g", false).is_ok());

        let ro = v.create_path(r"\ro", &NewFile::file()).unwrap();
        v.set_attributes(ro, attrs::READONLY).unwrap();
        let h = open(&v, r"\ro", Access::DELETE, Share::ALL);
        assert_eq!(
            v.set_disposition_on_close(h, true),
            Err(Error::CannotDelete)
        );
        v.close(h).unwrap();
        let h = open(&v, r"\g", Access::READ, Share::ALL);
        assert_eq!(
            v.set_disposition_on_close(h, true),
            Err(Error::AccessDenied)
        );
        v.close(h).unwrap();
        v.check().unwrap();
    }

    /// MS-FSA 2.1.5.12.27: DeletePending is the handle's own link; a legacy delete through
    /// another name of the file does not show on this handle, it does on that name's handle.
    #[test]
    fn stat_handle_reports_its_own_delete_pending() {
        let v = Volume::new(VolumeOptions {
            delete_semantics: DeleteSemantics::Legacy,
            ..VolumeOptions::default()
        });
        v.write_file_path(r"\a", b"x").unwrap();
        v.hard_link_path(r"\a", r"\b").unwrap();
        let ha = open(&v, r"\a", Access::READ, Share::ALL);
        let hb = open(&v, r"\b", RD, Share::ALL);
        v.set_disposition(
            hb,
            DispositionFlags {
                delete: true,
                ..DispositionFlags::default()
            },
        )
        .unwrap();
        let sa = v.stat_handle(ha).unwrap();
        assert_eq!((sa.links, sa.delete_pending), (1, false));
        assert!(v.stat(v.handle_file(ha).unwrap()).unwrap().delete_pending);
        let sb = v.stat_handle(hb).unwrap();
        assert_eq!((sb.links, sb.delete_pending), (1, true));
        v.close(hb).unwrap();
        v.close(ha).unwrap();
        v.check().unwrap();
    }

    fn query(v: &Volume, h: HandleId, p: Option<&str>, restart: bool) -> Result<Vec<String>> {
        let w = p.map(wide);
        v.query_directory(h, w.as_deref(), restart, usize::MAX)
            .map(|es| es.iter().map(|e| narrow(&e.name)).collect())
    }

    /// NtQueryDirectoryFile with FileName: DOS wildcards as FsRtlIsNameInExpression; nothing
    /// matching on the first call → STATUS_NO_SUCH_FILE, the end later → STATUS_NO_MORE_FILES.
    #[test]
    fn query_directory_with_pattern() {
        let v = vol();
        v.create_path(r"\d", &NewFile::dir()).unwrap();
        for n in ["a.txt", "B.TXT", "c.md", "noext"] {
            v.create_path(&format!(r"\d\{n}"), &NewFile::file())
                .unwrap();
        }
        let h = open(&v, r"\d", Access::READ, Share::ALL);
        assert_eq!(
            query(&v, h, Some("<.txt"), false).unwrap(),
            ["a.txt", "B.TXT"]
        );
        assert_eq!(
            query(&v, h, Some("ignored"), false),
            Err(Error::NoMoreFiles)
        );
        assert_eq!(
            query(&v, h, Some("?.MD"), true).unwrap(),
            ["c.md"],
            "restart with a new pattern"
        );
        assert_eq!(
            query(&v, h, None, true).unwrap(),
            ["c.md"],
            "restart keeps it"
        );
        assert_eq!(query(&v, h, None, false), Err(Error::NoMoreFiles));
        v.close(h).unwrap();
        let h = open(&v, r"\d", Access::READ, Share::ALL);
        assert_eq!(query(&v, h, Some("zz*"), false), Err(Error::NoSuchFile));
        assert_eq!(query(&v, h, None, false), Err(Error::NoMoreFiles));
        assert_eq!(
            query(&v, h, Some("yy*"), true),
            Err(Error::NoMoreFiles),
            "a restarted scan is no first call"
        );
        v.close(h).unwrap();
        let h = open(&v, r"\d", Access::READ, Share::ALL);
        assert_eq!(
            query(&v, h, Some("yy*"), true),
            Err(Error::NoSuchFile),
            "restart on the first call is the first call"
        );
        v.close(h).unwrap();
        let h = open(&v, r"\d", Access::READ, Share::ALL);
        assert_eq!(
            query(&v, h, Some("*"), false).unwrap(),
            [".", "..", "a.txt", "B.TXT", "c.md", "noext"]
        );
        v.close(h).unwrap();
        // One entry at a time resumes correctly.
        let h = open(&v, r"\d", Access::READ, Share::ALL);
        let pat = wide("<\"");
        let mut got = Vec::new();
        let mut first = true;
        loop {
            let p = if first { Some(pat.as_slice()) } else { None };
            first = false;
            match v.query_directory(h, p, false, 1) {
                Ok(es) => got.extend(es.iter().map(|e| narrow(&e.name))),
                Err(Error::NoMoreFiles) => break,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(got, [".", "..", "noext"]);
        v.close(h).unwrap();
        let f = open(&v, r"\d\c.md", Access::READ, Share::ALL);
        assert_eq!(query(&v, f, None, false), Err(Error::InvalidParameter));
        v.close(f).unwrap();
        v.check().unwrap();
    }

    /// The root lists neither `.` nor `..` (NTFS's root index has no dot entries).
    #[test]
    fn query_directory_of_the_root_has_no_dot_entries() {
        let v = vol();
        v.create_path(r"\x", &NewFile::file()).unwrap();
        let h = v.open_path(r"\", &OpenOptions::default()).unwrap().handle;
        assert_eq!(query(&v, h, None, false).unwrap(), ["x"]);
        v.close(h).unwrap();
    }

    /// A symlink set on an empty file keeps data written afterwards (WinBtrfs "reparse5").
    #[test]
    fn symlink_on_empty_file_keeps_later_data() {
        let v = vol();
        let id = v.create_path(r"\e", &NewFile::file()).unwrap();
        let h = v
            .open_path(
                r"\e",
                &OpenOptions {
                    open_reparse_point: true,
                    ..OpenOptions::default()
                },
            )
            .unwrap()
            .handle;
        let rp = symlink_for_target(&wide("t"), 'C').unwrap();
        v.set_reparse_point(id, rp.as_bytes()).unwrap();
        v.write(id, 0, b"later").unwrap();
        v.close(h).unwrap();
        assert_eq!(v.stat(id).unwrap().size, 5);
        assert_eq!(v.get_reparse_point(id).unwrap(), rp.as_bytes());
        v.check().unwrap();
    }
}
