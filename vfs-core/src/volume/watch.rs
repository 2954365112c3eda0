//! Telling a backend, at the moment it happens, that a directory's answers changed: a name
//! came into existence, a directory's lookup rules changed, a directory went away.
//!
//! A backend that caches *missing* names outside the engine (backend-fuse: the kernel's
//! negative dentries) must drop them before anyone can see the new name, by whatever way the
//! name was made: a request through the backend, another backend, or a direct call on the
//! [`Volume`]. Watching the store is the one place that sees every way (`State::link_in` is
//! where every create, hard link, rename target and re-case ends up), so a watcher needs no
//! call from the code that changed the volume.

use super::Volume;
use crate::name::Name;
use crate::types::FileId;
use std::sync::Arc;

/// What a backend is told. Each call is made with the volume's lock held for writing, at the
/// moment of the change, so no other operation can see the change before the watcher has
/// been told: a watcher must be quick and must never call into the [`Volume`] (that would
/// deadlock). Locks a watcher takes must never be held by its owner while it calls the
/// volume (the engine's lock order: backend maps → `Volume::state`, and a watcher's lock is
/// taken under `Volume::state`, so it must be a leaf).
pub trait NameWatcher: Send + Sync + std::fmt::Debug {
    /// `name` now exists in directory `dir`: made by a create, a hard link, a rename (its
    /// target), or a case-only rename (the new spelling).
    fn name_added(&self, dir: FileId, name: &Name);
    /// What a lookup in directory `dir` answers may have changed for names nobody added:
    /// its case-sensitivity flag changed (A5), or it became or stopped being a reparse
    /// point (A3).
    fn lookups_changed(&self, dir: FileId);
    /// Directory `dir` lost its name (it was removed, or replaced by a rename): nothing can
    /// be added to it any more.
    fn dir_removed(&self, dir: FileId);
}

impl Volume {
    /// Adds a watcher of this volume's names: backend-fuse adds one per mount, for the
    /// mount's life.
    pub fn add_name_watcher(&self, watcher: Arc<dyn NameWatcher>) {
        self.state.write().watchers.push(watcher);
    }

    /// Removes a watcher [`Volume::add_name_watcher`] added (the same `Arc`); any other is
    /// left alone.
    pub fn remove_name_watcher(&self, watcher: &Arc<dyn NameWatcher>) {
        self.state
            .write()
            .watchers
            .retain(|w| !Arc::ptr_eq(w, watcher));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{NewFile, RenameFlags, UnlinkKind, VolumeOptions};
    use parking_lot::Mutex;

    #[derive(Debug, Default)]
    struct Log(Mutex<Vec<String>>);

    impl NameWatcher for Log {
        fn name_added(&self, dir: FileId, name: &Name) {
            let n = name.to_string_lossy();
            self.0.lock().push(format!("added {:x} {n}", dir.0));
        }
        fn lookups_changed(&self, dir: FileId) {
            self.0.lock().push(format!("changed {:x}", dir.0));
        }
        fn dir_removed(&self, dir: FileId) {
            self.0.lock().push(format!("removed {:x}", dir.0));
        }
    }

    fn n(s: &str) -> Name {
        Name::from_str_checked(s).unwrap()
    }

    /// Every way a name appears reaches the watcher, with the directory and the new spelling;
    /// so do a directory's case rule, its reparse point and its removal.
    #[test]
    fn every_new_name_and_directory_change_is_told() {
        let v = Volume::new(VolumeOptions::default());
        let log = Arc::new(Log::default());
        let w: Arc<dyn NameWatcher> = log.clone();
        v.add_name_watcher(w.clone());
        let root = v.root();
        let r = root.0;
        let f = v.create(root, &n("a"), &NewFile::file()).unwrap();
        let d = v.create(root, &n("d"), &NewFile::dir()).unwrap();
        v.hard_link(f, d, &n("B")).unwrap();
        v.rename(root, &n("a"), root, &n("c"), RenameFlags::default())
            .unwrap();
        // A case-only rename: the entry is re-cased, the new spelling told.
        v.rename(root, &n("c"), root, &n("C"), RenameFlags::default())
            .unwrap();
        v.set_case_sensitive(d, true).unwrap();
        v.set_case_sensitive(d, true).unwrap(); // no change, nothing told
        let e = v.create(root, &n("e"), &NewFile::dir()).unwrap();
        let t: Vec<u16> = "C:\\d".encode_utf16().collect();
        let j = crate::reparse::junction_for_target(&t, 'C').unwrap();
        v.set_reparse_point(e, j.as_bytes()).unwrap();
        v.remove_reparse_point(e).unwrap();
        v.unlink(root, &n("e"), UnlinkKind::Directory, false)
            .unwrap();
        v.remove_name_watcher(&w);
        v.create(root, &n("quiet"), &NewFile::file()).unwrap();
        let (d, e) = (d.0, e.0);
        assert_eq!(
            *log.0.lock(),
            [
                format!("added {r:x} a"),
                format!("added {r:x} d"),
                format!("added {d:x} B"),
                format!("added {r:x} c"),
                format!("added {r:x} C"),
                format!("changed {d:x}"),
                format!("added {r:x} e"),
                format!("changed {e:x}"),
                format!("changed {e:x}"),
                format!("removed {e:x}"),
            ]
        );
        v.check().unwrap();
    }
}
