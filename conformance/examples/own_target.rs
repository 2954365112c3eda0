//! Running the conformance suite against your own file system.
//!
//! Two ways, for people prototyping another file system:
//!
//! 1. **A mounted prototype** (FUSE, a kernel module, a network share): no code at all. Point
//!    the `posix:DIR` target at a directory on the mount; the cases run through system calls
//!    and, when the mount has them, the ntfs-3g extended attributes (`system.ntfs_attrib`,
//!    `system.ntfs_reparse_data`):
//!
//!    ```text
//!    ntlinkfs conformance --target posix:/mnt/myfs --json myfs.json
//!    ```
//!
//! 2. **An in-process prototype**: implement [`NtfsTarget`] for one case's sandbox and
//!    [`Target`] to hand out fresh sandboxes, then call [`conformance::run`]. This example does
//!    that for a toy file system of about a hundred lines (files, directories, hard links,
//!    case-insensitive names; everything else reported as not expressible, so those cases are
//!    n/a rather than failures):
//!
//!    ```text
//!    cargo run -p conformance --example own_target
//!    ```

use conformance::{
    all_cases, report, DeleteKind, Failure, Feature, Flavor, Handle, Info, NtfsTarget, Op, OpenHow,
    Target,
};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use vfs_core::{attrs, DispositionFlags, Error, RenameFlags};

/// A file's contents and identity, shared by its names.
#[derive(Debug)]
struct File {
    id: u64,
    data: Vec<u8>,
    links: u32,
}

#[derive(Debug, Clone)]
enum Node {
    Dir(u64),
    File(Rc<RefCell<File>>),
}

/// The toy: a map from upper-cased path to (spelling, node). Names compare case-insensitively,
/// keep their case, and a file can have several names.
#[derive(Debug, Default)]
struct ToyFs {
    entries: BTreeMap<String, (String, Node)>,
    next_id: u64,
}

fn key(path: &str) -> String {
    path.to_uppercase()
}

fn parent(path: &str) -> &str {
    path.rsplit_once('\\').map_or("", |(p, _)| p)
}

fn not_expressible<T>(what: &str) -> Op<T> {
    Err(Failure::Unsupported(format!(
        "the toy file system has no {what}"
    )))
}

impl ToyFs {
    fn check_new(&self, path: &str) -> Op<()> {
        let name = path.rsplit('\\').next().unwrap_or(path);
        if name.is_empty() || name.encode_utf16().count() > 255 {
            return Err(Error::ObjectNameInvalid.into());
        }
        if name.contains(['<', '>', ':', '"', '|', '?', '*']) {
            return Err(Error::ObjectNameInvalid.into());
        }
        let p = parent(path);
        if !p.is_empty() && !matches!(self.entries.get(&key(p)), Some((_, Node::Dir(_)))) {
            return Err(Error::ObjectPathNotFound.into());
        }
        if self.entries.contains_key(&key(path)) {
            return Err(Error::NameCollision.into());
        }
        Ok(())
    }

    fn file(&self, path: &str) -> Op<Rc<RefCell<File>>> {
        match self.entries.get(&key(path)) {
            Some((_, Node::File(f))) => Ok(f.clone()),
            Some((_, Node::Dir(_))) => Err(Error::FileIsADirectory.into()),
            None => Err(Error::ObjectNameNotFound.into()),
        }
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

impl NtfsTarget for ToyFs {
    fn need(&mut self, feature: Feature) -> Result<(), String> {
        Err(format!("the toy file system has no {feature:?}"))
    }
    fn absolute(&self, path: &str) -> String {
        format!("C:\\{path}")
    }
    fn create_file(&mut self, path: &str) -> Op<()> {
        self.check_new(path)?;
        let id = self.new_id();
        let f = File {
            id,
            data: Vec::new(),
            links: 1,
        };
        let node = Node::File(Rc::new(RefCell::new(f)));
        self.entries.insert(key(path), (path.to_string(), node));
        Ok(())
    }
    fn create_dir(&mut self, path: &str) -> Op<()> {
        self.check_new(path)?;
        let id = self.new_id();
        self.entries
            .insert(key(path), (path.to_string(), Node::Dir(id)));
        Ok(())
    }
    fn write_file(&mut self, path: &str, data: &[u8]) -> Op<()> {
        if !self.entries.contains_key(&key(path)) {
            self.create_file(path)?;
        }
        self.file(path)?.borrow_mut().data = data.to_vec();
        Ok(())
    }
    fn read_file(&mut self, path: &str) -> Op<Vec<u8>> {
        Ok(self.file(path)?.borrow().data.clone())
    }
    fn hard_link(&mut self, existing: &str, new: &str) -> Op<()> {
        let f = self.file(existing)?;
        self.check_new(new)?;
        if f.borrow().links >= 1024 {
            return Err(Error::TooManyLinks.into());
        }
        f.borrow_mut().links += 1;
        self.entries
            .insert(key(new), (new.to_string(), Node::File(f)));
        Ok(())
    }
    fn link_names(&mut self, path: &str) -> Op<Vec<String>> {
        let f = self.file(path)?;
        Ok(self
            .entries
            .values()
            .filter(|(_, n)| matches!(n, Node::File(g) if Rc::ptr_eq(g, &f)))
            .map(|(spelling, _)| format!("\\{spelling}"))
            .collect())
    }
    fn create_symlink(&mut self, _: &str, _: &str, _: bool) -> Op<()> {
        not_expressible("symbolic links")
    }
    fn create_junction(&mut self, _: &str, _: &str) -> Op<()> {
        not_expressible("junctions")
    }
    fn create_special(&mut self, _: &str, _: conformance::SpecialFile) -> Op<()> {
        not_expressible("FIFOs, sockets or device nodes")
    }
    fn set_reparse_point(&mut self, _: &str, _: &[u8]) -> Op<()> {
        not_expressible("reparse points")
    }
    fn get_reparse_point(&mut self, _: &str) -> Op<Vec<u8>> {
        not_expressible("reparse points")
    }
    fn delete_reparse_point(&mut self, _: &str, _: &[u8]) -> Op<()> {
        not_expressible("reparse points")
    }
    fn set_attributes(&mut self, _: &str, _: u32) -> Op<()> {
        not_expressible("attributes")
    }
    fn open(&mut self, _: &str, _: OpenHow) -> Op<Handle> {
        not_expressible("handles")
    }
    fn read_handle(&mut self, _: Handle) -> Op<Vec<u8>> {
        not_expressible("handles")
    }
    fn stat_handle(&mut self, _: Handle) -> Op<Info> {
        not_expressible("handles")
    }
    fn set_disposition(&mut self, _: Handle, _: DispositionFlags) -> Op<()> {
        not_expressible("handles")
    }
    fn close(&mut self, _: Handle) -> Op<()> {
        not_expressible("handles")
    }
    fn delete(&mut self, path: &str, kind: DeleteKind) -> Op<()> {
        let k = key(path);
        let prefix = format!("{k}\\");
        match (self.entries.get(&k), kind) {
            (None, _) => return Err(Error::ObjectNameNotFound.into()),
            (Some((_, Node::Dir(_))), DeleteKind::File) => {
                return Err(Error::FileIsADirectory.into())
            }
            (Some((_, Node::File(_))), DeleteKind::Directory) => {
                return Err(Error::NotADirectory.into())
            }
            (Some((_, Node::Dir(_))), _) if self.entries.keys().any(|e| e.starts_with(&prefix)) => {
                return Err(Error::DirectoryNotEmpty.into())
            }
            (Some((_, Node::File(f))), _) => f.borrow_mut().links -= 1,
            _ => {}
        }
        self.entries.remove(&k);
        Ok(())
    }
    fn rename(&mut self, src: &str, dst: &str, flags: RenameFlags) -> Op<()> {
        let f = self.file(src)?;
        if key(src) != key(dst) {
            match self.check_new(dst) {
                Err(Failure::Nt(Error::NameCollision)) if flags.replace_if_exists => {
                    self.file(dst)?.borrow_mut().links -= 1;
                }
                r => r?,
            }
        }
        self.entries.remove(&key(src));
        self.entries
            .insert(key(dst), (dst.to_string(), Node::File(f)));
        Ok(())
    }
    fn list_dir(&mut self, path: &str) -> Op<Vec<String>> {
        Ok(self
            .entries
            .values()
            .filter(|(spelling, _)| parent(spelling).eq_ignore_ascii_case(path))
            .map(|(spelling, _)| spelling.rsplit('\\').next().unwrap_or("").to_string())
            .collect())
    }
    fn stat(&mut self, path: &str, _follow: bool) -> Op<Info> {
        match self.entries.get(&key(path)) {
            Some((_, Node::Dir(id))) => Ok(Info {
                file_id: *id,
                links: 1,
                size: 0,
                attributes: attrs::DIRECTORY,
                reparse_tag: None,
            }),
            Some((_, Node::File(f))) => {
                let f = f.borrow();
                Ok(Info {
                    file_id: f.id,
                    links: f.links,
                    size: f.data.len() as u64,
                    attributes: attrs::ARCHIVE,
                    reparse_tag: None,
                })
            }
            None => Err(Error::ObjectNameNotFound.into()),
        }
    }
    fn set_case_sensitive(&mut self, _: &str, _: bool) -> Op<()> {
        not_expressible("case-sensitive directories")
    }
}

/// Hands out a fresh, empty toy file system for every case.
struct ToyTarget;

impl Target for ToyTarget {
    fn name(&self) -> String {
        "toy".into()
    }
    fn flavor(&self) -> Flavor {
        Flavor::Other
    }
    fn sandbox(&mut self, _case_id: &str) -> Result<Box<dyn NtfsTarget>, String> {
        Ok(Box::new(ToyFs::default()))
    }
}

fn main() {
    let mut targets: Vec<Box<dyn Target>> = vec![Box::new(ToyTarget)];
    let report = conformance::run(&all_cases(), &mut targets, |_| {});
    print!("{}", report::matrix(&report, false));
}
