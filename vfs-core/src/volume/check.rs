//! `Volume::check()`: the store's invariants, verified from scratch.

use super::inode::Body;
use super::store::State;
use crate::name::upcase;
use crate::types::{attrs, FileId, VolumeOptions};
use std::collections::HashMap;

/// The inconsistencies [`crate::Volume::check`] found, one line each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("volume inconsistent: {}", .0.join("; "))]
pub struct CheckError(pub Vec<String>);

pub(crate) fn check(st: &State, opts: &VolumeOptions) -> Result<(), CheckError> {
    let mut errs = Vec::new();
    let mut named: HashMap<FileId, usize> = HashMap::new();
    let mut opens: HashMap<FileId, u32> = HashMap::new();
    for h in st.handles.values() {
        *opens.entry(h.file).or_default() += 1;
    }
    for (slot, inode) in st.inodes.iter() {
        if st.generations.get(slot).is_none_or(|&g| g == 0) {
            errs.push(format!("slot {slot}: occupied but has no generation"));
            continue;
        }
        let id = st.id_at(slot);
        let Some(dir) = inode.dir() else { continue };
        let mut count = 0;
        for (canon, slot) in &dir.entries {
            if slot.names.is_empty() {
                errs.push(format!("{id}: empty slot in directory index"));
            }
            if slot.names.len() > 1 && !dir.case_sensitive {
                errs.push(format!("{id}: case twins in a case-insensitive directory"));
            }
            for n in &slot.names {
                count += 1;
                if upcase(&n.display)[..] != canon[..] {
                    errs.push(format!("{id}: entry key is not the upcased name"));
                }
                *named.entry(n.id()).or_default() += 1;
                match st.get(n.id()) {
                    Err(_) => errs.push(format!("{id}: entry names dead file {}", n.id())),
                    Ok(child) => {
                        // A2: a pending name goes when the file's last handle closes, so one
                        // without any handle would stay pending for ever.
                        if n.pending() && !st.names_marked_pending {
                            errs.push(format!(
                                "{id}: pending entry for {} but no name was ever marked pending",
                                n.id()
                            ));
                        }
                        if n.pending() && child.opens == 0 {
                            errs.push(format!("{id}: pending entry for {} with no handle", n.id()));
                        }
                        if n.pending() && child.dir().is_some_and(|d| !d.is_empty()) {
                            errs.push(format!(
                                "{id}: pending entry for non-empty directory {}",
                                n.id()
                            ));
                        }
                        if !child
                            .links
                            .iter()
                            .any(|l| l.parent == id && l.display == n.display)
                        {
                            errs.push(format!("{id}: entry for {} has no back link", n.id()));
                        }
                    }
                }
            }
        }
        if count != dir.count {
            errs.push(format!(
                "{id}: directory count {} != {count} entries",
                dir.count
            ));
        }
        if inode.reparse().is_some() && !dir.is_empty() {
            errs.push(format!("{id}: reparse-point directory is not empty"));
        }
    }
    for (slot, inode) in st.inodes.iter() {
        let Some(&generation) = st.generations.get(slot) else {
            continue;
        };
        let id = FileId::new(slot, generation);
        let n = named.get(&id).copied().unwrap_or(0);
        if n != inode.links.len() {
            errs.push(format!(
                "{id}: link count {} != {n} entries",
                inode.links.len()
            ));
        }
        if inode.links.len() > opts.max_links {
            errs.push(format!("{id}: more than {} names", opts.max_links));
        }
        if inode.is_dir() && inode.links.len() > 1 {
            errs.push(format!("{id}: directory with several names"));
        }
        if id != st.root && inode.links.is_empty() && inode.opens == 0 && inode.pins == 0 {
            errs.push(format!("{id}: unnamed file survives with no handle"));
        }
        let h = opens.get(&id).copied().unwrap_or(0);
        if h != inode.opens {
            errs.push(format!("{id}: open count {} != {h} handles", inode.opens));
        }
        let sa = st.share.get(&id).map(|s| s.open_count).unwrap_or(0);
        if sa != inode.opens {
            errs.push(format!("{id}: share access count {sa} != {}", inode.opens));
        }
        let has_rp = inode.reparse().is_some();
        if has_rp != (inode.attributes & attrs::REPARSE_POINT != 0) {
            errs.push(format!(
                "{id}: REPARSE_POINT attribute disagrees with reparse data"
            ));
        }
        if inode.reparse().is_some_and(|r| r.is_mount_point()) && !inode.is_dir() {
            errs.push(format!("{id}: mount point on a file"));
        }
        if inode.is_dir() != (inode.attributes & attrs::DIRECTORY != 0) {
            errs.push(format!(
                "{id}: DIRECTORY attribute disagrees with the file's kind"
            ));
        }
        for l in &inode.links {
            if st.dir(l.parent).is_err() {
                errs.push(format!(
                    "{id}: back link to {} which is not a directory",
                    l.parent
                ));
            }
        }
    }
    for h in st.handles.values() {
        if st.get(h.file).is_err() {
            errs.push(format!("handle on dead file {}", h.file));
        }
    }
    if st.get(st.root).is_err() {
        errs.push("root is gone".into());
    }
    // 7. The running total of charged space equals a recount (A8), within the volume's size.
    let recount = st.recount(st.cluster);
    if recount != st.used {
        errs.push(format!(
            "space: running total {} bytes != {recount} recounted",
            st.used
        ));
    }
    // 8. Lent data (`lending.rs`): out of the engine, and reserved for only while some is.
    for id in st.lent.keys() {
        if let Ok(inode) = st.get(*id) {
            if matches!(&inode.body, Body::File(d) if d.size() != 0) {
                errs.push(format!("lent file {id:?} has data in the engine"));
            }
        }
    }
    if st.lent.is_empty() && st.reserved != 0 {
        errs.push(format!(
            "space: {} bytes reserved with nothing lent",
            st.reserved
        ));
    }
    if let Some(cap) = opts.capacity.filter(|&c| st.used > c) {
        errs.push(format!(
            "space: {} bytes used, more than the size {cap}",
            st.used
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(CheckError(errs))
    }
}
