//! `core`: the engine in process. Each case gets a fresh [`Volume`] and runs in the directory
//! `\<case id>` of it, so absolute link targets and name listings are exercised exactly as on a
//! mounted target. A case that needs legacy delete semantics gets a volume built with
//! [`DeleteSemantics::Legacy`].

use crate::target::*;
use std::collections::HashMap;
use vfs_core::name::wide;
use vfs_core::{
    DeleteSemantics, Disposition, Error, FileId, FileKind, HandleId, LinkPath, Location, NewFile,
    OpenOptions, Stat, UnlinkKind, Volume, VolumeOptions,
};

/// The `core` target.
#[derive(Debug, Default)]
pub struct CoreTarget {
    /// Options of every fresh volume (legacy delete is switched per case).
    pub options: VolumeOptions,
}

impl CoreTarget {
    /// A target whose volumes use these options.
    pub fn new(options: VolumeOptions) -> CoreTarget {
        CoreTarget { options }
    }
}

impl Target for CoreTarget {
    fn name(&self) -> String {
        "core".into()
    }
    fn flavor(&self) -> Flavor {
        Flavor::Core
    }
    fn sandbox(&mut self, case_id: &str) -> Result<Box<dyn NtfsTarget>, String> {
        let s = CoreSandbox::new(self.options.clone(), case_id).map_err(|e| e.to_string())?;
        Ok(Box::new(s))
    }
}

/// One case's volume and directory.
#[derive(Debug)]
pub struct CoreSandbox {
    vol: Volume,
    dir: String,
    handles: HashMap<u64, HandleId>,
    next: u64,
    fresh: bool,
}

impl CoreSandbox {
    /// A fresh volume with the directory `\case_id`.
    pub fn new(options: VolumeOptions, case_id: &str) -> Result<CoreSandbox, Error> {
        let vol = Volume::new(options);
        let dir = format!("\\{case_id}");
        vol.create_path(&dir, &vfs_core::NewFile::dir())?;
        Ok(CoreSandbox {
            vol,
            dir,
            handles: HashMap::new(),
            next: 1,
            fresh: true,
        })
    }

    /// The volume (for checks after a case, e.g. [`Volume::check`]).
    pub fn volume(&self) -> &Volume {
        &self.vol
    }

    fn p(&mut self, path: &str) -> String {
        self.fresh = false;
        if path.is_empty() {
            self.dir.clone()
        } else {
            format!("{}\\{}", self.dir, path)
        }
    }

    fn handle(&self, h: Handle) -> Op<HandleId> {
        self.handles
            .get(&h.0)
            .copied()
            .ok_or(Failure::Nt(Error::InvalidHandle))
    }
}

fn info(st: &Stat) -> Info {
    Info {
        file_id: st.id.0,
        links: st.links,
        size: st.size,
        attributes: st.attributes,
        reparse_tag: st.reparse_tag,
    }
}

impl NtfsTarget for CoreSandbox {
    fn need(&mut self, feature: Feature) -> Result<(), String> {
        if feature == Feature::LegacyDelete {
            if !self.fresh {
                return Err("LegacyDelete must be asked for before the first operation".into());
            }
            let mut opts = self.vol.options().clone();
            opts.delete_semantics = DeleteSemantics::Legacy;
            let case = self.dir.trim_start_matches('\\').to_string();
            *self = CoreSandbox::new(opts, &case).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn absolute(&self, path: &str) -> String {
        let letter = self.vol.options().drive_letter;
        if path.is_empty() {
            format!("{letter}:{}", self.dir)
        } else {
            format!("{letter}:{}\\{path}", self.dir)
        }
    }

    fn create_file(&mut self, path: &str) -> Op<()> {
        let p = self.p(path);
        self.vol.create_path(&p, &vfs_core::NewFile::file())?;
        Ok(())
    }

    fn create_dir(&mut self, path: &str) -> Op<()> {
        let p = self.p(path);
        self.vol.create_path(&p, &vfs_core::NewFile::dir())?;
        Ok(())
    }

    fn write_file(&mut self, path: &str, data: &[u8]) -> Op<()> {
        let p = self.p(path);
        self.vol.write_file_path(&p, data)?;
        Ok(())
    }

    fn read_file(&mut self, path: &str) -> Op<Vec<u8>> {
        let p = self.p(path);
        let id = self.vol.resolve(&p, true)?;
        if self.vol.stat(id)?.kind == FileKind::Directory {
            return Err(Failure::Nt(Error::FileIsADirectory));
        }
        Ok(self.vol.read_file_path(&p)?)
    }

    fn hard_link(&mut self, existing: &str, new: &str) -> Op<()> {
        let (e, n) = (self.p(existing), self.p(new));
        self.vol.hard_link_path(&e, &n)?;
        Ok(())
    }

    fn link_names(&mut self, path: &str) -> Op<Vec<String>> {
        let p = self.p(path);
        let id = self.vol.resolve(&p, false)?;
        let names = self.vol.link_paths(id)?;
        let prefix = format!("{}\\", self.dir);
        names
            .iter()
            .map(LinkPath::to_string_lossy)
            .map(|n| match n.strip_prefix(&prefix) {
                Some(rest) => Ok(format!("\\{rest}")),
                None => Err(Failure::Broken(format!("name {n} is outside the sandbox"))),
            })
            .collect()
    }

    fn create_symlink(&mut self, link: &str, target: &str, directory: bool) -> Op<()> {
        let p = self.p(link);
        self.vol.create_symlink(&p, target, directory)?;
        Ok(())
    }

    fn create_junction(&mut self, link: &str, target: &str) -> Op<()> {
        let p = self.p(link);
        self.vol.create_junction(&p, target)?;
        Ok(())
    }

    fn create_special(&mut self, path: &str, special: SpecialFile) -> Op<()> {
        let p = self.p(path);
        match self.vol.locate(&p, false)? {
            Location::Missing { parent, name } => {
                self.vol
                    .create_special(parent, &name, &NewFile::file(), special)?;
                Ok(())
            }
            _ => Err(Failure::Nt(Error::NameCollision)),
        }
    }

    fn set_reparse_point(&mut self, path: &str, buffer: &[u8]) -> Op<()> {
        let p = self.p(path);
        let id = self.vol.resolve(&p, false)?;
        Ok(self.vol.set_reparse_point(id, buffer)?)
    }

    fn get_reparse_point(&mut self, path: &str) -> Op<Vec<u8>> {
        let p = self.p(path);
        let id = self.vol.resolve(&p, false)?;
        Ok(self.vol.get_reparse_point(id)?)
    }

    fn delete_reparse_point(&mut self, path: &str, header: &[u8]) -> Op<()> {
        let p = self.p(path);
        let id = self.vol.resolve(&p, false)?;
        Ok(self.vol.delete_reparse_point(id, header)?)
    }

    fn set_attributes(&mut self, path: &str, attributes: u32) -> Op<()> {
        let p = self.p(path);
        let id = self.vol.resolve(&p, false)?;
        Ok(self.vol.set_attributes(id, attributes)?)
    }

    fn open(&mut self, path: &str, how: OpenHow) -> Op<Handle> {
        let p = self.p(path);
        let h = self
            .vol
            .open_path(
                &p,
                &OpenOptions {
                    disposition: Disposition::Open,
                    kind: None,
                    open_reparse_point: how.open_reparse_point,
                    delete_on_close: how.delete_on_close,
                    access: how.access,
                    share: how.share,
                    ..OpenOptions::default()
                },
            )?
            .handle;
        let n = self.next;
        self.next += 1;
        self.handles.insert(n, h);
        Ok(Handle(n))
    }

    fn read_handle(&mut self, h: Handle) -> Op<Vec<u8>> {
        let id = self.vol.handle_file(self.handle(h)?)?;
        let size = self.vol.stat(id)?.size;
        let mut buf = vec![0u8; usize::try_from(size).map_err(|_| Error::FileTooLarge)?];
        let n = self.vol.read(id, 0, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn stat_handle(&mut self, h: Handle) -> Op<Info> {
        let id = self.vol.handle_file(self.handle(h)?)?;
        Ok(info(&self.vol.stat(id)?))
    }

    fn set_disposition(&mut self, h: Handle, flags: DispositionFlags) -> Op<()> {
        let hid = self.handle(h)?;
        Ok(self.vol.set_disposition(hid, flags)?)
    }

    fn close(&mut self, h: Handle) -> Op<()> {
        let hid = self.handle(h)?;
        self.handles.remove(&h.0);
        Ok(self.vol.close(hid)?)
    }

    fn delete(&mut self, path: &str, kind: DeleteKind) -> Op<()> {
        let p = self.p(path);
        let kind = match kind {
            DeleteKind::File => UnlinkKind::File,
            DeleteKind::Directory => UnlinkKind::Directory,
        };
        Ok(self.vol.delete_path(&p, kind)?)
    }

    fn rename(&mut self, src: &str, dst: &str, flags: RenameFlags) -> Op<()> {
        let (s, d) = (self.p(src), self.p(dst));
        Ok(self.vol.rename_path(&s, &d, flags)?)
    }

    fn list_dir(&mut self, path: &str) -> Op<Vec<String>> {
        let p = self.p(path);
        let entries = self.vol.read_dir_path(&p)?;
        Ok(entries
            .iter()
            .map(|e| vfs_core::name::narrow(&e.name))
            .collect())
    }

    fn stat(&mut self, path: &str, follow: bool) -> Op<Info> {
        let p = self.p(path);
        Ok(info(&self.vol.stat_path(&p, follow)?))
    }

    fn set_case_sensitive(&mut self, dir: &str, on: bool) -> Op<()> {
        let p = self.p(dir);
        let id = self.vol.resolve(&p, true)?;
        Ok(self.vol.set_case_sensitive(id, on)?)
    }

    fn open_disposition(
        &mut self,
        path: &str,
        how: OpenHow,
        disposition: Disposition,
    ) -> Op<Handle> {
        let p = self.p(path);
        let opened = self.vol.open_path(
            &p,
            &OpenOptions {
                disposition,
                kind: None,
                open_reparse_point: how.open_reparse_point,
                delete_on_close: how.delete_on_close,
                access: how.access,
                share: how.share,
                ..OpenOptions::default()
            },
        )?;
        Ok(self.keep(opened.handle))
    }

    fn write_handle(&mut self, h: Handle, data: &[u8]) -> Op<()> {
        let hid = self.handle(h)?;
        let id = self.vol.handle_file(hid)?;
        self.vol.write(id, 0, data)?;
        Ok(())
    }

    fn open_by_id(&mut self, file_id: u64, how: OpenHow) -> Op<Handle> {
        let h = self.vol.open(FileId(file_id), how.access, how.share)?;
        Ok(self.keep(h))
    }

    fn link_handle(&mut self, h: Handle, new: NewName<'_>, flags: LinkFlags) -> Op<()> {
        let hid = self.handle(h)?;
        let (root, name) = self.new_name(new)?;
        Ok(self.vol.link_by_handle(hid, root, &name, flags)?)
    }

    fn rename_handle(&mut self, h: Handle, new: NewName<'_>, flags: RenameFlags) -> Op<()> {
        let hid = self.handle(h)?;
        let (root, name) = self.new_name(new)?;
        Ok(self.vol.rename_by_handle(hid, root, &name, flags)?)
    }

    fn set_disposition_on_close(&mut self, h: Handle, delete: bool) -> Op<()> {
        let hid = self.handle(h)?;
        Ok(self.vol.set_disposition_on_close(hid, delete)?)
    }

    fn standard_info(&mut self, h: Handle) -> Op<StandardInfo> {
        let st = self.vol.stat_handle(self.handle(h)?)?;
        Ok(StandardInfo {
            links: st.links,
            delete_pending: st.delete_pending,
        })
    }

    fn query_dir(&mut self, h: Handle, pattern: Option<&str>, restart: bool) -> Op<Vec<String>> {
        let hid = self.handle(h)?;
        let pattern = pattern.map(wide);
        let entries = self
            .vol
            .query_directory(hid, pattern.as_deref(), restart, usize::MAX)?;
        Ok(entries
            .iter()
            .map(|e| vfs_core::name::narrow(&e.name))
            .collect())
    }
}

impl CoreSandbox {
    fn new_name(&mut self, new: NewName<'_>) -> Op<(Option<HandleId>, Vec<u16>)> {
        Ok(match new {
            NewName::Path(p) => (None, wide(&self.p(p))),
            NewName::Bare(n) => (None, wide(n)),
            NewName::Relative(h, n) => (Some(self.handle(h)?), wide(n)),
        })
    }

    fn keep(&mut self, h: HandleId) -> Handle {
        let n = self.next;
        self.next += 1;
        self.handles.insert(n, h);
        Handle(n)
    }
}

impl Drop for CoreSandbox {
    fn drop(&mut self) {
        for (_, h) in self.handles.drain() {
            let _ = self.vol.close(h);
        }
    }
}
