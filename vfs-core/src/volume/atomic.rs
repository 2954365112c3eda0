//! Compound operations under one acquisition of the volume's lock.
//!
//! A request that the common API answers in two calls (look up, then stat; create, then open)
//! leaves a moment between them in which another request can change the volume: a file created
//! and deleted before the handle on it is opened, a name whose attributes belong to the next
//! file to take it. The Linux kernel asks a FUSE file system for one thing at a time (LOOKUP,
//! CREATE, SYMLINK) and expects each answer to describe one consistent moment; these calls do
//! each such request in one locked step.

use super::Volume;
use crate::error::{Error, Result};
use crate::name::Name;
use crate::reparse::{ReparseBuffer, SpecialFile};
use crate::types::*;

impl Volume {
    /// Looks `name` up in directory `parent` (case-insensitively, or exactly in a
    /// case-sensitive directory, A5) and returns, as of one moment: the file, the name as
    /// stored (display form), the file's [`Stat`], and whether that name is delete-pending
    /// (legacy delete semantics, A2). Does not follow reparse points.
    pub fn lookup_stat(&self, parent: FileId, name: &Name) -> Result<Lookup> {
        let st = self.state.read();
        let named = st
            .dir(parent)?
            .find(name)
            .ok_or(Error::ObjectNameNotFound)?;
        Ok(Lookup {
            id: named.id(),
            name: named.display.to_vec(),
            stat: st.stat(named.id())?,
            delete_pending: named.pending(),
        })
    }

    /// NtCreateFile with FILE_CREATE on a name in `parent`: creates the file or directory as
    /// [`Volume::create`] does and opens a handle on it through that name, in one step.
    pub fn create_open(
        &self,
        parent: FileId,
        name: &Name,
        new: &NewFile,
        access: Access,
        share: Share,
    ) -> Result<Opened> {
        self.writable()?;
        let mut st = self.state.write();
        let id = self.create_locked(&mut st, parent, name, new)?;
        let h = self.add_handle(
            &mut st,
            id,
            Some((parent, name.display().into())),
            access,
            share,
            false,
        )?;
        Ok(Opened {
            handle: h,
            id,
            created: true,
        })
    }

    /// Creates an empty file or directory `name` in `parent` that holds the reparse buffer
    /// `rp` (a symbolic link as CreateSymbolicLinkW makes it, A4, or a junction as `mklink /J`
    /// does, A3), in one step: no other request ever sees the file without its reparse point.
    /// The new file's kind comes from `new.kind`; a mount point on a file → NotADirectory.
    pub fn create_reparse_at(
        &self,
        parent: FileId,
        name: &Name,
        new: &NewFile,
        rp: &ReparseBuffer,
    ) -> Result<FileId> {
        self.writable()?;
        let mut st = self.state.write();
        self.create_reparse_locked(&mut st, parent, name, new, rp.clone())
    }

    /// Creates the POSIX special file `name` in `parent` (mknod(2), mkfifo(3), bind(2) of an
    /// AF_UNIX socket): an empty file that holds the reparse point of `special`'s tag, as
    /// Windows (AF_UNIX) and WSL (FIFOs, device nodes) store them (layout in
    /// [`crate::reparse::SpecialFile`]'s module docs). Name and reparse point appear in one
    /// step, as for [`Volume::create_reparse_at`]: no request sees a plain empty file first.
    /// `new.kind` must be [`FileKind::File`] (a directory → InvalidParameter).
    pub fn create_special(
        &self,
        parent: FileId,
        name: &Name,
        new: &NewFile,
        special: SpecialFile,
    ) -> Result<FileId> {
        if new.kind != FileKind::File {
            return Err(Error::InvalidParameter);
        }
        self.writable()?;
        let mut st = self.state.write();
        self.create_reparse_locked(&mut st, parent, name, new, ReparseBuffer::special(special))
    }
}

#[cfg(test)]
mod tests {
    use crate::reparse::symlink_for_target;
    use crate::wtf16::wide;
    use crate::*;

    fn n(s: &str) -> Name {
        Name::from_str_checked(s).unwrap()
    }

    #[test]
    fn lookup_stat_returns_display_name_case_insensitively_a5() {
        let v = Volume::new(VolumeOptions::default());
        let id = v.create_path(r"\Readme.TXT", &NewFile::file()).unwrap();
        let found = v.lookup_stat(v.root(), &n("README.txt")).unwrap();
        assert_eq!(found.id, id);
        assert_eq!(found.name, wide("Readme.TXT"));
        assert_eq!(found.stat.id, id);
        assert!(!found.delete_pending);
        assert_eq!(
            v.lookup_stat(v.root(), &n("nope")).unwrap_err(),
            Error::ObjectNameNotFound
        );
    }

    #[test]
    fn create_open_makes_file_and_handle_in_one_step() {
        let v = Volume::new(VolumeOptions::default());
        let opened = v
            .create_open(
                v.root(),
                &n("a"),
                &NewFile::file(),
                Access::READ_WRITE,
                Share::ALL,
            )
            .unwrap();
        assert!(opened.created);
        assert_eq!(v.handle_file(opened.handle).unwrap(), opened.id);
        assert_eq!(
            v.create_open(
                v.root(),
                &n("A"),
                &NewFile::file(),
                Access::READ,
                Share::ALL
            )
            .unwrap_err(),
            Error::NameCollision
        );
        v.close(opened.handle).unwrap();
        v.check().unwrap();
    }

    #[test]
    fn create_special_makes_each_kind_in_one_step_and_stat_reports_it() {
        let v = Volume::new(VolumeOptions::default());
        let new = NewFile {
            mode: Some(0o640),
            uid: Some(1000),
            gid: Some(100),
            ..NewFile::file()
        };
        for (name, sp, tag) in [
            ("fifo", SpecialFile::Fifo, reparse::IO_REPARSE_TAG_LX_FIFO),
            ("sock", SpecialFile::Socket, reparse::IO_REPARSE_TAG_AF_UNIX),
            (
                "chr",
                SpecialFile::CharDevice { major: 1, minor: 3 },
                reparse::IO_REPARSE_TAG_LX_CHR,
            ),
            (
                "blk",
                SpecialFile::BlockDevice { major: 8, minor: 2 },
                reparse::IO_REPARSE_TAG_LX_BLK,
            ),
        ] {
            let id = v.create_special(v.root(), &n(name), &new, sp).unwrap();
            let st = v.stat(id).unwrap();
            assert_eq!(st.kind, FileKind::File);
            assert_eq!(st.special, Some(sp));
            assert_eq!(st.reparse_tag, Some(tag));
            assert_ne!(st.attributes & attrs::REPARSE_POINT, 0);
            assert_eq!((st.mode, st.uid, st.gid, st.size), (0o640, 1000, 100, 0));
            assert_eq!(
                v.get_reparse_point(id).unwrap(),
                reparse::ReparseBuffer::special(sp).as_bytes()
            );
            assert_eq!(v.resolve(&format!(r"\{name}"), false).unwrap(), id);
            // Not a name surrogate: a path through it is never followed (A4, unhandled tag).
            assert_eq!(
                v.resolve(&format!(r"\{name}"), true).unwrap_err(),
                Error::IoReparseTagNotHandled
            );
            assert_eq!(
                v.resolve(&format!(r"\{name}\x"), true).unwrap_err(),
                Error::IoReparseTagNotHandled
            );
        }
        assert_eq!(
            v.create_special(v.root(), &n("FIFO"), &new, SpecialFile::Fifo)
                .unwrap_err(),
            Error::NameCollision
        );
        assert_eq!(
            v.create_special(v.root(), &n("d"), &NewFile::dir(), SpecialFile::Fifo)
                .unwrap_err(),
            Error::InvalidParameter
        );
        // A plain file and a directory are not special, even a directory holding the tag.
        let f = v.create_path(r"\plain", &NewFile::file()).unwrap();
        assert_eq!(v.stat(f).unwrap().special, None);
        v.check().unwrap();
    }

    #[test]
    fn create_reparse_at_makes_a_symlink_a4() {
        let v = Volume::new(VolumeOptions::default());
        let rp = symlink_for_target(&wide("target"), 'C').unwrap();
        let id = v
            .create_reparse_at(v.root(), &n("lnk"), &NewFile::file(), &rp)
            .unwrap();
        let st = v.stat(id).unwrap();
        assert_eq!(st.reparse_tag, Some(reparse::IO_REPARSE_TAG_SYMLINK));
        assert_ne!(st.attributes & attrs::REPARSE_POINT, 0);
        assert_eq!(v.read_link_posix(id, "/m").unwrap(), "target");
        v.check().unwrap();
    }
}
