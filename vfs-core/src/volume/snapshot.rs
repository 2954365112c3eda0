//! Export and import of a whole volume ([`Snapshot`]) and the engine's own comparison of two
//! volumes. The image module encodes snapshots; this file is the only code that reads or
//! builds the store for them.
//!
//! A snapshot is the drive as it would be once every handle closed: delete-pending names go
//! (legacy semantics drop them at the last close, docs/NTFS-RULES.md A2) and so do files that only
//! a handle or a backend pin keeps alive. Handles and pins themselves are never saved.

use super::check;
use super::dir_index::Dir;
use super::inode::{Body, Extra, Inode, Link};
use super::space;
use super::store::State;
use super::Volume;
use crate::data::{FileData, CHUNK_SIZE};
use crate::name::{narrow, Name};
use crate::reparse::ReparseBuffer;
use crate::snapshot::{
    Bytes, InconsistentSnapshot, SnapBody, SnapChunk, SnapFile, SnapLink, SnapOptions, Snapshot,
    MAX_CHUNK,
};
use crate::types::{attrs, FileId, Times, VolumeOptions, MAX_FILE_SIZE};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

const CHUNK: u64 = CHUNK_SIZE as u64;

impl Volume {
    /// The whole drive as plain data (see [`crate::image`]): FileIds, the slot generation
    /// table, names with their case and order, reparse buffers byte for byte, attributes,
    /// times, owner/mode, security, xattrs, case-sensitive flags, options and allocated
    /// data. Delete-pending names and files kept only by handles or pins are left out.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_lent(&mut |_| None)
    }

    /// [`Volume::snapshot`] of a volume with lent data (`lending.rs`): `lent` gives a lent
    /// file's data as the backend holds it now (its writes stamped already,
    /// [`Volume::lent_written`]). A lent file `lent` has no data for is saved empty.
    pub fn snapshot_lent(&self, lent: &mut dyn FnMut(FileId) -> Option<FileData>) -> Snapshot {
        let st = self.state.read();
        let kept = reachable(&st);
        let files = st
            .inodes
            .iter()
            .filter_map(|(slot, inode)| {
                let id = st.id_at(slot);
                if !kept.contains(&id) {
                    return None;
                }
                if st.lent.contains_key(&id) {
                    if let Some(data) = lent(id) {
                        let mut inode = inode.clone();
                        inode.body = Body::File(data);
                        return Some(snap_file(&st, &kept, id, &inode));
                    }
                }
                Some(snap_file(&st, &kept, id, inode))
            })
            .collect();
        Snapshot {
            options: SnapOptions::from_options(&self.opts),
            root: st.root.0,
            generations: st.generations.clone(),
            files,
        }
    }

    /// Rebuilds a volume from a snapshot, FileIds included. Everything is validated before
    /// the volume exists — ids in range and matching the generation table, parents that are
    /// directories, names valid and unique under the directory's case rule (A5), link counts
    /// (A1), directories with one name, every file reachable from the root (no cycles),
    /// reparse buffers that parse (A3/A4) on the right kind of file, data inside the file
    /// size — and [`Volume::check`] runs on the result; any failure is
    /// [`InconsistentSnapshot`] and no volume is made.
    pub fn from_snapshot(snapshot: Snapshot) -> Result<Volume, InconsistentSnapshot> {
        build(snapshot, &VolumeOptions::default()).map_err(InconsistentSnapshot)
    }

    /// [`Volume::from_snapshot`] with the options images do not keep taken from `sizing`:
    /// cluster size, capacity and `sparse_on_extend` (A8). A drive that needs more than the
    /// capacity is [`SizedLoadError::TooLarge`], with both sizes.
    pub fn from_snapshot_sized(
        snapshot: Snapshot,
        sizing: &VolumeOptions,
    ) -> Result<Volume, SizedLoadError> {
        let unlimited = VolumeOptions {
            capacity: None,
            ..sizing.clone()
        };
        let mut v = build(snapshot, &unlimited).map_err(InconsistentSnapshot)?;
        let needs = v.state.read().used;
        if let Some(size) = sizing.capacity.filter(|&c| needs > c) {
            return Err(SizedLoadError::TooLarge { needs, size });
        }
        v.opts.capacity = sizing.capacity;
        Ok(v)
    }

    /// The engine's own comparison: are the two drives the same in every saved detail — names
    /// with their case and order, link structure, FileIds, reparse bytes, attributes, times,
    /// owner/group/mode, security, xattrs, allocated data, case-sensitive flags and volume
    /// options? (The slot generation table, which only decides future ids, is not compared.)
    pub fn same_content(&self, other: &Volume) -> bool {
        self.content_difference(other).is_none()
    }

    /// The first difference [`Volume::same_content`] finds, described; None when equal.
    pub fn content_difference(&self, other: &Volume) -> Option<String> {
        // One snapshot at a time: never hold two volume locks at once.
        let a = self.snapshot();
        let b = other.snapshot();
        if a.options != b.options {
            return Some(format!(
                "options differ: {:?} vs {:?}",
                a.options, b.options
            ));
        }
        if a.root != b.root {
            return Some(format!(
                "root ids differ: {} vs {}",
                FileId(a.root),
                FileId(b.root)
            ));
        }
        let ia: BTreeMap<u64, &SnapFile> = a.files.iter().map(|f| (f.id, f)).collect();
        let ib: BTreeMap<u64, &SnapFile> = b.files.iter().map(|f| (f.id, f)).collect();
        for (id, fa) in &ia {
            match ib.get(id) {
                None => return Some(format!("{} exists only in the first", FileId(*id))),
                Some(fb) => {
                    if let Some(d) = file_difference(fa, fb) {
                        return Some(format!("{}: {d}", FileId(*id)));
                    }
                }
            }
        }
        ib.keys()
            .find(|id| !ia.contains_key(id))
            .map(|id| format!("{} exists only in the second", FileId(*id)))
    }

    /// Like [`Volume::same_content`] but matching files by their names instead of their
    /// FileIds, comparing each file's names as a set, and file data by what reads return
    /// (allocation ignored): the comparison for drives built independently, e.g. from a
    /// fixture and from its dump.
    pub fn same_tree(&self, other: &Volume) -> bool {
        self.tree_difference(other).is_none()
    }

    /// The first difference [`Volume::same_tree`] finds, described; None when equal.
    pub fn tree_difference(&self, other: &Volume) -> Option<String> {
        let a = canonical_tree(&self.snapshot());
        let b = canonical_tree(&other.snapshot());
        if a.0 != b.0 {
            return Some(format!("options differ: {:?} vs {:?}", a.0, b.0));
        }
        for (i, (fa, fb)) in a.1.iter().zip(&b.1).enumerate() {
            if fa != fb {
                return Some(format!(
                    "file #{i} in tree order ({}): {}",
                    fa.path,
                    file_difference(&fa.file, &fb.file).unwrap_or_else(|| format!(
                        "names differ: {:?} vs {:?}",
                        fa.names, fb.names
                    ))
                ));
            }
        }
        (a.1.len() != b.1.len()).then(|| format!("{} files vs {}", a.1.len(), b.1.len()))
    }
}

/// Files reachable from the root through names that are not delete-pending.
fn reachable(st: &State) -> HashSet<FileId> {
    let mut kept = HashSet::from([st.root]);
    let mut queue = vec![st.root];
    while let Some(d) = queue.pop() {
        let Ok(dir) = st.dir(d) else { continue };
        for slot in dir.entries.values() {
            for n in slot.names.iter().filter(|n| !n.pending()) {
                if kept.insert(n.id()) && st.get(n.id()).is_ok_and(|i| i.is_dir()) {
                    queue.push(n.id());
                }
            }
        }
    }
    kept
}

fn snap_file(st: &State, kept: &HashSet<FileId>, id: FileId, inode: &Inode) -> SnapFile {
    let links = inode
        .links
        .iter()
        .filter(|l| {
            kept.contains(&l.parent)
                && st
                    .dir(l.parent)
                    .ok()
                    .and_then(|d| d.find_exact(&l.display))
                    .is_some_and(|n| n.id() == id && !n.pending())
        })
        .map(|l| SnapLink {
            parent: l.parent.0,
            name: l.display.to_vec(),
        })
        .collect();
    let body = match &inode.body {
        Body::File(d) => SnapBody::File {
            size: d.size(),
            chunks: d
                .allocated_chunks()
                .map(|(i, c)| SnapChunk::new(i, c))
                .collect(),
        },
        Body::Dir(d) => SnapBody::Dir {
            case_sensitive: d.case_sensitive,
        },
    };
    let extra = inode.extra.as_deref();
    SnapFile {
        id: id.0,
        attributes: inode.attributes,
        uid: inode.uid,
        gid: inode.gid,
        mode: inode.mode,
        times: [
            inode.times.creation,
            inode.times.last_access,
            inode.times.last_write,
            inode.times.change,
        ],
        links,
        body,
        security: extra.and_then(|e| e.security.clone()).map(Bytes),
        reparse: extra
            .and_then(|e| e.reparse.as_ref())
            .map(|r| Bytes(r.as_bytes().to_vec())),
        xattrs: extra
            .map(|e| {
                e.xattrs
                    .iter()
                    .map(|(k, v)| (k.clone(), Bytes(v.clone())))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn file_difference(a: &SnapFile, b: &SnapFile) -> Option<String> {
    let what = if a.attributes != b.attributes {
        format!("attributes {:#x} vs {:#x}", a.attributes, b.attributes)
    } else if (a.uid, a.gid, a.mode) != (b.uid, b.gid, b.mode) {
        format!(
            "owner/group/mode {}/{}/{:o} vs {}/{}/{:o}",
            a.uid, a.gid, a.mode, b.uid, b.gid, b.mode
        )
    } else if a.times != b.times {
        format!("times {:?} vs {:?}", a.times, b.times)
    } else if a.links != b.links {
        let show = |l: &[SnapLink]| {
            l.iter()
                .map(|l| format!("{}\\{}", FileId(l.parent), narrow(&l.name)))
                .collect::<Vec<_>>()
        };
        format!("names {:?} vs {:?}", show(&a.links), show(&b.links))
    } else if a.body != b.body {
        match (&a.body, &b.body) {
            (SnapBody::File { size: x, .. }, SnapBody::File { size: y, .. }) if x != y => {
                format!("sizes {x} vs {y}")
            }
            (SnapBody::File { .. }, SnapBody::File { .. }) => "file data differs".into(),
            (SnapBody::Dir { case_sensitive: x }, SnapBody::Dir { case_sensitive: y }) => {
                format!("case-sensitive {x} vs {y}")
            }
            _ => "one is a file, the other a directory".into(),
        }
    } else if a.security != b.security {
        "security descriptors differ".into()
    } else if a.reparse != b.reparse {
        "reparse buffers differ".into()
    } else if a.xattrs != b.xattrs {
        "extended attributes differ".into()
    } else {
        return None;
    };
    Some(what)
}

/// One file of a tree with ids replaced by tree-walk positions.
#[derive(Debug, PartialEq, Eq)]
struct TreeFile {
    path: String,
    /// (parent position, name), sorted.
    names: Vec<(usize, Vec<u16>)>,
    /// The file with `id` and `links` cleared and zero chunks dropped.
    file: SnapFile,
}

/// Numbers files in walk order (breadth first from the root, names in collation order) and
/// rewrites every id as that number.
fn canonical_tree(s: &Snapshot) -> (SnapOptions, Vec<TreeFile>) {
    let by_id: HashMap<u64, &SnapFile> = s.files.iter().map(|f| (f.id, f)).collect();
    let mut children: HashMap<u64, Dir> = HashMap::new();
    for f in &s.files {
        for l in &f.links {
            children
                .entry(l.parent)
                .or_default()
                // The snapshots compared here come from live volumes, whose names are valid.
                .insert(&Name::from_valid_units(l.name.clone()), FileId(f.id));
        }
    }
    let mut order: Vec<(u64, String)> = vec![(s.root, String::new())];
    let mut pos: HashMap<u64, usize> = HashMap::from([(s.root, 0)]);
    let mut queue = VecDeque::from([(s.root, String::new())]);
    while let Some((d, path)) = queue.pop_front() {
        let Some(dir) = children.get(&d) else {
            continue;
        };
        for slot in dir.entries.values() {
            for n in &slot.names {
                if pos.contains_key(&n.id().0) {
                    continue;
                }
                let p = format!("{path}\\{}", narrow(&n.display));
                pos.insert(n.id().0, order.len());
                order.push((n.id().0, p.clone()));
                queue.push_back((n.id().0, p));
            }
        }
    }
    let files = order
        .into_iter()
        .filter_map(|(id, path)| {
            let f = by_id.get(&id)?;
            let mut names: Vec<(usize, Vec<u16>)> = f
                .links
                .iter()
                .map(|l| {
                    (
                        pos.get(&l.parent).copied().unwrap_or(usize::MAX),
                        l.name.clone(),
                    )
                })
                .collect();
            names.sort();
            let mut file = (*f).clone();
            file.id = 0;
            file.links.clear();
            if let SnapBody::File { chunks, .. } = &mut file.body {
                chunks.retain(|c| !c.is_zero());
            }
            Some(TreeFile { path, names, file })
        })
        .collect();
    (s.options.clone(), files)
}

// ---------------------------------------------------------------------------------------
// Import

/// Why [`Volume::from_snapshot_sized`] made no volume.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizedLoadError {
    /// The snapshot breaks an invariant.
    #[error(transparent)]
    Inconsistent(#[from] InconsistentSnapshot),
    /// The drive needs more than the volume's size (A8).
    #[error("the drive needs {needs} bytes, more than the volume's size of {size} bytes")]
    TooLarge {
        /// Bytes the drive's files are charged.
        needs: u64,
        /// The capacity asked for.
        size: u64,
    },
}

fn build(s: Snapshot, sizing: &VolumeOptions) -> Result<Volume, String> {
    s.options.validate()?;
    sizing.validate()?;
    let opts = VolumeOptions {
        cluster_size: sizing.cluster_size,
        capacity: sizing.capacity,
        sparse_on_extend: sizing.sparse_on_extend,
        ..s.options.to_options()
    };
    let nslots = s.generations.len();
    let lookup_err = |what: &str, id: FileId| format!("{what} {id} names no file in the image");
    // Generations live in 1..2^31 (bit 63 of a FileId is the engine's delete-pending flag in
    // directory entries).
    if let Some(g) = s.generations.iter().find(|&&g| g > 0x7FFF_FFFF) {
        return Err(format!(
            "slot generation {g} is out of range (at most 2^31 - 1)"
        ));
    }

    // Index by slot and check each file on its own.
    let mut by_slot: HashMap<usize, usize> = HashMap::with_capacity(s.files.len());
    for (i, f) in s.files.iter().enumerate() {
        let id = FileId(f.id);
        let (slot, generation) = (id.slot(), id.generation());
        if slot >= nslots || u64::from(generation) == 0 || s.generations[slot] != generation {
            return Err(format!(
                "file {id}: slot {slot} generation {generation} does not match the generation \
                 table ({nslots} slots)"
            ));
        }
        if by_slot.insert(slot, i).is_some() {
            return Err(format!("two files in slot {slot}"));
        }
        check_file(f, opts.max_links).map_err(|e| format!("file {id}: {e}"))?;
    }
    let find = |raw: u64| -> Option<&SnapFile> {
        let id = FileId(raw);
        by_slot
            .get(&id.slot())
            .map(|&i| &s.files[i])
            .filter(|f| f.id == raw)
    };
    let root = find(s.root).ok_or_else(|| lookup_err("root", FileId(s.root)))?;
    if !matches!(root.body, SnapBody::Dir { .. }) || !root.links.is_empty() {
        return Err("the root is not an unnamed directory".into());
    }

    // Directory indexes from the files' names, checking each name against its directory.
    let mut dirs: HashMap<u64, Dir> = HashMap::new();
    for f in &s.files {
        if f.id != s.root && f.links.is_empty() {
            return Err(format!("file {} has no name", FileId(f.id)));
        }
        for l in &f.links {
            let pid = FileId(l.parent);
            let parent = find(l.parent).ok_or_else(|| lookup_err("parent", pid))?;
            let SnapBody::Dir { case_sensitive } = parent.body else {
                return Err(format!(
                    "parent {pid} of {} is not a directory",
                    FileId(f.id)
                ));
            };
            let name = Name::new(&l.name)
                .map_err(|e| format!("name {:?} in {pid}: {e}", narrow(&l.name)))?;
            let dir = dirs.entry(l.parent).or_insert_with(|| Dir {
                case_sensitive,
                ..Dir::default()
            });
            if let Some(existing) = dir.find(&name) {
                if !case_sensitive || *existing.display == *l.name {
                    // A5: a case-insensitive directory holds one name per canonical form.
                    return Err(format!(
                        "names {:?} and {:?} collide in directory {pid}",
                        narrow(&existing.display),
                        narrow(&l.name)
                    ));
                }
            }
            dir.insert(&name, FileId(f.id));
        }
    }

    // Every file reachable from the root: with one name per directory this also rules out
    // directory cycles (a cycle's directories would each be named only inside the cycle).
    let mut seen = HashSet::from([s.root]);
    let mut queue = vec![s.root];
    while let Some(d) = queue.pop() {
        if let Some(dir) = dirs.get(&d) {
            for slot in dir.entries.values() {
                for n in &slot.names {
                    if seen.insert(n.id().0) {
                        queue.push(n.id().0);
                    }
                }
            }
        }
    }
    if seen.len() != s.files.len() {
        let lost = s.files.iter().find(|f| !seen.contains(&f.id)).map(|f| f.id);
        return Err(format!(
            "file {} cannot be reached from the root (a directory cycle)",
            FileId(lost.unwrap_or_default())
        ));
    }

    // The store.
    let mut st = State::new(opts.case_sensitive, opts.default_uid, opts.default_gid);
    st.set_cluster(u64::from(opts.cluster_size));
    let mut inodes = Vec::with_capacity(s.files.len());
    for f in s.files {
        let id = FileId(f.id);
        let body = match f.body {
            SnapBody::Dir { case_sensitive } => {
                let mut d = dirs.remove(&f.id).unwrap_or_default();
                d.case_sensitive = case_sensitive;
                Body::Dir(Box::new(d))
            }
            SnapBody::File { size, chunks } => {
                let mut d = FileData::new();
                for c in chunks {
                    let at = c.index * CHUNK;
                    let data: &[u8] = if c.data.0.is_empty() { &[0] } else { &c.data.0 };
                    d.write(at, data).map_err(|e| format!("file {id}: {e}"))?;
                }
                d.set_size(size).map_err(|e| format!("file {id}: {e}"))?;
                Body::File(d)
            }
        };
        let mut inode = Inode {
            attributes: f.attributes,
            uid: f.uid,
            gid: f.gid,
            mode: f.mode,
            opens: 0,
            pins: 0,
            times: Times {
                creation: f.times[0],
                last_access: f.times[1],
                last_write: f.times[2],
                change: f.times[3],
            },
            links: f
                .links
                .into_iter()
                .map(|l| Link {
                    parent: FileId(l.parent),
                    display: l.name.into(),
                })
                .collect(),
            body,
            extra: None,
        };
        let extra = Extra {
            security: f.security.map(|b| b.0),
            reparse: match f.reparse {
                Some(b) => Some(ReparseBuffer::parse(&b.0).map_err(|e| format!("file {id}: {e}"))?),
                None => None,
            },
            xattrs: f.xattrs.into_iter().map(|(k, v)| (k, v.0)).collect(),
        };
        if extra != Extra::default() {
            inode.extra = Some(Box::new(extra));
        }
        // A8: whether the data left the file record is not kept; decide it as the data's
        // growth would have (a file once larger and cut back reads as resident again).
        let limit = space::limit_of(&inode);
        if let Body::File(d) = &mut inode.body {
            if d.size() > limit {
                d.make_non_resident();
            }
        }
        inodes.push((id.slot(), inode));
    }
    st.inodes = inodes.into_iter().collect();
    st.generations = s.generations;
    st.root = FileId(s.root);
    st.used = st.recount(st.cluster);
    check::check(&st, &opts).map_err(|e| e.to_string())?;
    Ok(Volume {
        opts,
        state: RwLock::new(st),
    })
}

/// The checks one file passes on its own.
fn check_file(f: &SnapFile, max_links: usize) -> Result<(), String> {
    let known = attrs::SETTABLE | attrs::DIRECTORY | attrs::REPARSE_POINT;
    if f.attributes & !known != 0 {
        return Err(format!(
            "unknown attribute bits {:#x}",
            f.attributes & !known
        ));
    }
    let is_dir = matches!(f.body, SnapBody::Dir { .. });
    if is_dir != (f.attributes & attrs::DIRECTORY != 0) {
        return Err("DIRECTORY attribute disagrees with the file's kind".into());
    }
    if f.mode > 0o7777 {
        return Err(format!("mode {:o} has bits above 0o7777", f.mode));
    }
    if f.links.len() > max_links {
        // A1: at most 1024 names per file (or the volume's configured limit).
        return Err(format!("{} names, more than {max_links}", f.links.len()));
    }
    if is_dir && f.links.len() > 1 {
        // A1: directories cannot have hard links.
        return Err("a directory with several names".into());
    }
    if f.reparse.is_some() != (f.attributes & attrs::REPARSE_POINT != 0) {
        return Err("REPARSE_POINT attribute disagrees with the reparse data".into());
    }
    if let Some(b) = &f.reparse {
        let rp = ReparseBuffer::parse(&b.0).map_err(|e| e.to_string())?;
        if rp.is_mount_point() && !is_dir {
            // A3: a mount point needs a directory (STATUS_NOT_A_DIRECTORY).
            return Err("a mount point on a file".into());
        }
    }
    let mut names = HashSet::new();
    if let Some((k, _)) = f.xattrs.iter().find(|(k, _)| !names.insert(k)) {
        return Err(format!("extended attribute {k:?} twice"));
    }
    if let SnapBody::File { size, chunks } = &f.body {
        if *size > MAX_FILE_SIZE {
            return Err(format!("size {size} exceeds NTFS's maximum file size"));
        }
        let mut prev: Option<u64> = None;
        for c in chunks {
            if prev.is_some_and(|p| p >= c.index) {
                return Err("data chunks out of order".into());
            }
            prev = Some(c.index);
            let end = c
                .index
                .checked_mul(CHUNK)
                .and_then(|s| s.checked_add(c.data.0.len().max(1) as u64));
            if c.data.0.len() > MAX_CHUNK || end.is_none_or(|e| e > *size) {
                return Err(format!(
                    "data chunk {} lies past the end of the file",
                    c.index
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{decode, encode, ImageError};
    use crate::Opened;
    use crate::{NewFile, VolumeOptions};

    fn sample() -> Volume {
        let v = Volume::new(VolumeOptions::default());
        v.create_path(r"\d", &NewFile::dir()).unwrap();
        v.write_file_path(r"\d\f.txt", b"hello").unwrap();
        v.hard_link_path(r"\d\f.txt", r"\g.txt").unwrap();
        v.create_junction(r"\j", r"C:\d").unwrap();
        v.create_symlink(r"\s", r"d\f.txt", false).unwrap();
        v
    }

    fn broken(edit: impl FnOnce(&mut Snapshot)) -> String {
        let mut s = sample().snapshot();
        edit(&mut s);
        // Through the image codec, as a damaged-but-decodable file would arrive.
        match crate::image::load(&encode(&s)) {
            Err(ImageError::Inconsistent(msg)) => msg,
            Err(e) => panic!("expected Inconsistent, got {e}"),
            Ok(_) => panic!("a broken snapshot was accepted"),
        }
    }

    fn file_named<'a>(s: &'a mut Snapshot, name: &str) -> &'a mut SnapFile {
        let w = crate::name::wide(name);
        s.files
            .iter_mut()
            .find(|f| f.links.iter().any(|l| l.name == w))
            .unwrap()
    }

    #[test]
    fn sample_round_trips_exactly() {
        let v = sample();
        let s = v.snapshot();
        let back = Volume::from_snapshot(decode(&encode(&s)).unwrap()).unwrap();
        assert_eq!(back.snapshot(), s);
        assert!(v.same_content(&back));
        back.check().unwrap();
    }

    #[test]
    fn generation_out_of_range_is_refused() {
        let msg = broken(|s| s.generations[1] = 0x8000_0000);
        assert!(msg.contains("out of range"), "{msg}");
    }

    #[test]
    fn generation_mismatch_is_refused() {
        let msg = broken(|s| s.generations[1] += 1);
        assert!(msg.contains("generation"), "{msg}");
    }

    #[test]
    fn slot_out_of_range_is_refused() {
        let msg = broken(|s| s.files[1].id = (1u64 << 32) | 1_000_000);
        assert!(msg.contains("slot"), "{msg}");
    }

    #[test]
    fn duplicate_slot_is_refused() {
        let msg = broken(|s| {
            let f = s.files[1].clone();
            s.files.push(f);
        });
        assert!(msg.contains("slot"), "{msg}");
    }

    #[test]
    fn missing_parent_is_refused() {
        let msg = broken(|s| file_named(s, "f.txt").links[0].parent = 0xdead_0000_0042);
        assert!(msg.contains("names no file"), "{msg}");
    }

    #[test]
    fn parent_that_is_a_file_is_refused() {
        let msg = broken(|s| {
            let g = file_named(s, "g.txt").id;
            file_named(s, "f.txt").links[0].parent = g;
        });
        assert!(msg.contains("not a directory"), "{msg}");
    }

    #[test]
    fn invalid_name_is_refused_a5() {
        let msg = broken(|s| file_named(s, "g.txt").links[0].name = crate::name::wide("a:b"));
        assert!(msg.contains("a:b"), "{msg}");
    }

    #[test]
    fn case_collision_in_case_insensitive_dir_is_refused_a5() {
        let msg = broken(|s| {
            let g = crate::name::wide("g.txt");
            let f = file_named(s, "g.txt");
            let l = f.links.iter_mut().find(|l| l.name == g).unwrap();
            l.name = crate::name::wide("D");
        });
        assert!(msg.contains("collide"), "{msg}");
    }

    #[test]
    fn directory_cycle_is_refused() {
        let msg = broken(|s| {
            let d = file_named(s, "d").id;
            file_named(s, "d").links[0].parent = d;
        });
        assert!(msg.contains("cycle"), "{msg}");
    }

    #[test]
    fn unnamed_file_is_refused() {
        let msg = broken(|s| file_named(s, "g.txt").links.clear());
        assert!(msg.contains("no name"), "{msg}");
    }

    #[test]
    fn directory_with_two_names_is_refused_a1() {
        let msg = broken(|s| {
            let l = file_named(s, "d").links[0].clone();
            file_named(s, "d").links.push(SnapLink {
                name: crate::name::wide("d2"),
                ..l
            });
        });
        assert!(msg.contains("several names"), "{msg}");
    }

    #[test]
    fn too_many_names_for_the_volume_is_refused_a1() {
        let msg = broken(|s| s.options.max_links = 1);
        assert!(msg.contains("more than 1"), "{msg}");
    }

    #[test]
    fn reparse_buffer_that_does_not_parse_is_refused_a3() {
        let msg = broken(|s| file_named(s, "j").reparse.as_mut().unwrap().0.truncate(9));
        assert!(msg.contains("reparse"), "{msg}");
    }

    #[test]
    fn mount_point_on_a_file_is_refused_a3() {
        let msg = broken(|s| {
            let rp = file_named(s, "j").reparse.clone();
            let f = file_named(s, "g.txt");
            f.reparse = rp;
            f.attributes |= attrs::REPARSE_POINT;
        });
        assert!(msg.contains("mount point on a file"), "{msg}");
    }

    #[test]
    fn reparse_attribute_without_data_is_refused() {
        let msg = broken(|s| file_named(s, "s").reparse = None);
        assert!(msg.contains("REPARSE_POINT"), "{msg}");
    }

    #[test]
    fn directory_attribute_on_a_file_is_refused() {
        let msg = broken(|s| file_named(s, "g.txt").attributes |= attrs::DIRECTORY);
        assert!(msg.contains("DIRECTORY"), "{msg}");
    }

    #[test]
    fn unknown_attribute_bits_are_refused() {
        let msg = broken(|s| file_named(s, "g.txt").attributes |= 0x8000_0000);
        assert!(msg.contains("attribute bits"), "{msg}");
    }

    #[test]
    fn data_past_end_of_file_is_refused() {
        let msg = broken(|s| {
            if let SnapBody::File { size, .. } = &mut file_named(s, "g.txt").body {
                *size = 2;
            }
        });
        assert!(msg.contains("past the end"), "{msg}");
    }

    #[test]
    fn size_past_ntfs_maximum_is_refused() {
        let msg = broken(|s| {
            if let SnapBody::File { size, .. } = &mut file_named(s, "g.txt").body {
                *size = MAX_FILE_SIZE + 1;
            }
        });
        assert!(msg.contains("maximum file size"), "{msg}");
    }

    #[test]
    fn bad_drive_letter_is_refused() {
        let msg = broken(|s| s.options.drive_letter = '7');
        assert!(msg.contains("drive letter"), "{msg}");
    }

    #[test]
    fn root_with_a_name_is_refused() {
        let msg = broken(|s| {
            let root = s.root;
            let r = s.files.iter_mut().find(|f| f.id == root).unwrap();
            r.links.push(SnapLink {
                parent: root,
                name: crate::name::wide("loop"),
            });
        });
        assert!(msg.contains("root"), "{msg}");
    }

    #[test]
    fn handles_and_pending_names_are_not_saved_a2() {
        let v = Volume::new(VolumeOptions {
            delete_semantics: crate::DeleteSemantics::Legacy,
            ..VolumeOptions::default()
        });
        v.write_file_path(r"\pending.txt", b"x").unwrap();
        v.write_file_path(r"\kept.txt", b"y").unwrap();
        let Opened { handle: h, .. } = v
            .open_path(r"\pending.txt", &crate::OpenOptions::default())
            .unwrap();
        v.delete_path(r"\pending.txt", crate::UnlinkKind::File)
            .unwrap();
        // Legacy semantics: the name is still there, delete-pending, while h is open.
        assert!(v.stat_path(r"\pending.txt", false).unwrap().delete_pending);
        let id = v.create_path(r"\gone.txt", &NewFile::file()).unwrap();
        v.pin(id).unwrap();
        v.delete_path(r"\gone.txt", crate::UnlinkKind::File)
            .unwrap();
        let back = Volume::from_snapshot(v.snapshot()).unwrap();
        assert_eq!(back.open_handle_count(), 0);
        assert!(back.resolve(r"\pending.txt", false).is_err());
        assert!(back.resolve(r"\kept.txt", false).is_ok());
        assert_eq!(back.file_count(), 2);
        // What the original becomes once its handle closes and the pin drops (the root's
        // times aside: the close removes the pending name and so writes the directory).
        v.close(h).unwrap();
        v.unpin(id, 1).unwrap();
        let t = crate::SetTimes {
            creation: Some(1),
            last_access: Some(2),
            last_write: Some(3),
            change: Some(4),
        };
        v.set_times(v.root(), t).unwrap();
        back.set_times(back.root(), t).unwrap();
        assert!(v.same_content(&back), "{:?}", v.content_difference(&back));
    }

    #[test]
    fn ids_are_never_reused_after_load() {
        let v = Volume::new(VolumeOptions::default());
        let mut seen = HashSet::new();
        for i in 0..20 {
            let id = v.create_path(&format!(r"\f{i}"), &NewFile::file()).unwrap();
            seen.insert(id);
            if i % 2 == 0 {
                v.delete_path(&format!(r"\f{i}"), crate::UnlinkKind::File)
                    .unwrap();
            }
        }
        let back = Volume::from_snapshot(v.snapshot()).unwrap();
        for i in 0..40 {
            let id = back
                .create_path(&format!(r"\n{i}"), &NewFile::file())
                .unwrap();
            assert!(seen.insert(id), "id {id} reused after load");
        }
    }
}
