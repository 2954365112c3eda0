//! The directory index: entries keyed by canonical (upcased) name, each holding the name as
//! typed and the file it names (A5: case-insensitive, case-preserving; case twins only in a
//! case-sensitive directory). Iteration order is NTFS collation order.
//!
//! Locking: runs under `Volume::state` (see `mod.rs`).

use super::units::{Key, Units};
use crate::name::{upcase, upcase_unit, Name};
use crate::types::*;
use std::collections::BTreeMap;

/// One directory entry: the name as typed, the file it names, and legacy delete-pending state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub display: Units,
    /// The file's id with the legacy delete-pending flag in bit 63 (generations stay below
    /// 2^31, see `State::alloc`), so an entry is 24 bytes instead of 32: directory entries are
    /// most of the engine's memory per file.
    packed: u64,
}

const PENDING_BIT: u64 = 1 << 63;

impl Named {
    pub fn new(display: Units, id: FileId) -> Named {
        debug_assert_eq!(id.0 & PENDING_BIT, 0);
        Named {
            display,
            packed: id.0,
        }
    }
    /// The file this entry names.
    #[inline]
    pub fn id(&self) -> FileId {
        FileId(self.packed & !PENDING_BIT)
    }
    /// Legacy delete-pending (A2).
    #[inline]
    pub fn pending(&self) -> bool {
        self.packed & PENDING_BIT != 0
    }
    pub fn set_pending(&mut self, pending: bool) {
        if pending {
            self.packed |= PENDING_BIT;
        } else {
            self.packed &= !PENDING_BIT;
        }
    }
}

/// All entries of one directory whose names share a canonical form. Outside case-sensitive
/// directories there is exactly one; a case-sensitive directory may hold case twins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    pub names: Names,
}

/// The entries of one [`Slot`]: one inline (every case-insensitive directory, and nearly every
/// entry of a case-sensitive one), so that an entry costs no allocation of its own (a `Vec`
/// cost 32 bytes per file, docs/ENGINE-BENCH.md); case twins (A5) in a vector. Read it as a
/// slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Names {
    One(Named),
    /// Case twins (boxed slice, not Vec: 16 bytes, so `Names` stays 24 bytes, see `Named`).
    Many(Box<[Named]>),
}

impl Default for Names {
    fn default() -> Self {
        Names::Many(Box::default())
    }
}

impl std::ops::Deref for Names {
    type Target = [Named];
    fn deref(&self) -> &[Named] {
        match self {
            Names::One(n) => std::slice::from_ref(n),
            Names::Many(v) => v,
        }
    }
}

impl std::ops::DerefMut for Names {
    fn deref_mut(&mut self) -> &mut [Named] {
        match self {
            Names::One(n) => std::slice::from_mut(n),
            Names::Many(v) => v,
        }
    }
}

impl<'a> IntoIterator for &'a Names {
    type Item = &'a Named;
    type IntoIter = std::slice::Iter<'a, Named>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Names {
    /// Inserts at `pos` (0..=len), keeping the others in order.
    pub fn insert(&mut self, pos: usize, named: Named) {
        *self = match std::mem::take(self) {
            Names::Many(v) if v.is_empty() => Names::One(named),
            Names::One(first) => {
                let mut v = Vec::with_capacity(2);
                v.push(first);
                v.insert(pos, named);
                Names::Many(v.into_boxed_slice())
            }
            Names::Many(v) => {
                let mut v = v.into_vec();
                v.insert(pos, named);
                Names::Many(v.into_boxed_slice())
            }
        };
    }
    /// Removes and returns the entry at `pos`.
    pub fn remove(&mut self, pos: usize) -> Named {
        let mut v = match std::mem::take(self) {
            Names::One(n) => {
                assert_eq!(pos, 0, "a slot with one entry has only entry 0");
                return n;
            }
            Names::Many(v) => v.into_vec(),
        };
        let named = v.remove(pos);
        if v.len() == 1 {
            *self = Names::One(v.pop().expect("one entry"));
        } else {
            *self = Names::Many(v.into_boxed_slice());
        }
        named
    }
}

/// A directory index keyed by canonical (upcased) name: iteration order is NTFS collation order
/// (upcased UTF-16 units, A5), ties between case twins broken by the display units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Dir {
    pub entries: BTreeMap<Units, Slot>,
    pub count: usize,
    /// FILE_CS_FLAG_CASE_SENSITIVE_DIR.
    pub case_sensitive: bool,
}

impl Dir {
    /// Finds the entry `name` would open: an exact match in a case-sensitive directory, the one
    /// entry with the same canonical form otherwise (A5).
    /// The name's canonical form is the key: no upcasing here, the [`Name`] did it once.
    #[inline]
    pub fn find(&self, name: &Name) -> Option<&Named> {
        self.find_canonical(name.canonical(), name.display())
    }

    /// [`Dir::find`] for a name given as its two forms.
    #[inline]
    pub fn find_canonical(&self, canonical: &[u16], display: &[u16]) -> Option<&Named> {
        let slot = self.entries.get(Key::new(canonical))?;
        if self.case_sensitive {
            slot.names.iter().find(|n| *n.display == *display)
        } else {
            slot.names.first()
        }
    }

    /// Would a new entry `name` collide with an existing one? In a case-insensitive directory any
    /// entry with the same canonical name collides (A1: "existing name in any case").
    pub fn collides(&self, name: &Name) -> bool {
        self.find(name).is_some()
    }

    /// Adds an entry for `name` (display form kept, canonical form the key).
    pub fn insert(&mut self, name: &Name, id: FileId) {
        let display = Units::new(name.display());
        let canon = Units::new(name.canonical());
        let slot = self
            .entries
            .entry(canon)
            // One name is kept inline (see [`Names`]): case twins are rare (issue 7: engine
            // memory per file).
            .or_insert_with(|| Slot {
                names: Names::default(),
            });
        let pos = slot
            .names
            .iter()
            .position(|n| n.display > display)
            .unwrap_or(slot.names.len());
        slot.names.insert(pos, Named::new(display, id));
        self.count += 1;
    }

    /// Removes the entry with exactly this display name; returns it.
    pub fn remove_exact(&mut self, display: &[u16]) -> Option<Named> {
        with_upcased(display, |canon| {
            // One descent of the B-tree in the common case (a slot holding just this name):
            // the slot is taken out whole, and put back only if it keeps other names (case
            // twins) or does not hold this one.
            let (key, mut slot) = self.entries.remove_entry(Key::new(canon))?;
            let Some(pos) = slot.names.iter().position(|n| &*n.display == display) else {
                self.entries.insert(key, slot);
                return None;
            };
            let named = slot.names.remove(pos);
            if !slot.names.is_empty() {
                self.entries.insert(key, slot);
            }
            self.count -= 1;
            Some(named)
        })
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Are there names that differ only in case (refuses clearing the case-sensitive flag)?
    pub fn has_case_twins(&self) -> bool {
        self.entries.values().any(|s| s.names.len() > 1)
    }

    /// Entries strictly after `cursor` in collation order.
    pub fn iter_after<'a>(
        &'a self,
        cursor: Option<&'a DirCursor>,
    ) -> impl Iterator<Item = (&'a [u16], &'a Named)> + 'a {
        use std::ops::Bound;
        // Only the cursor's own slot (case twins share one) can hold names at or before the
        // cursor; it is looked up once and filtered by display name, and every later slot is
        // taken whole, with no comparison per entry (a READDIR loop's profile had that
        // comparison at a tenth of the serving thread's samples).
        let (same, start) = match cursor {
            Some(c) => (
                self.entries
                    .get(Key::new(c.canonical()))
                    .map(|slot| (c.canonical(), c.display(), slot)),
                Bound::Excluded(Key::new(c.canonical())),
            ),
            None => (None, Bound::Unbounded),
        };
        let same = same.into_iter().flat_map(|(canon, display, slot)| {
            slot.names
                .iter()
                .filter(move |n| &*n.display > display)
                .map(move |n| (canon, n))
        });
        let after = self
            .entries
            .range::<Key, _>((start, Bound::Unbounded))
            .flat_map(|(canon, slot)| slot.names.iter().map(move |n| (&canon[..], n)));
        same.chain(after)
    }
}

impl Dir {
    /// The entry with exactly this display name (a name the store itself holds, e.g. a back
    /// link or a handle's name).
    pub fn find_exact(&self, display: &[u16]) -> Option<&Named> {
        with_upcased(display, |canon| {
            self.entries
                .get(Key::new(canon))?
                .names
                .iter()
                .find(|n| &*n.display == display)
        })
    }
    pub fn find_exact_mut(&mut self, display: &[u16]) -> Option<&mut Named> {
        with_upcased(display, |canon| {
            self.entries
                .get_mut(Key::new(canon))?
                .names
                .iter_mut()
                .find(|n| &*n.display == display)
        })
    }
}

/// Runs `f` on the canonical form of `display`, upcased into a buffer on the stack (no
/// allocation for a name of up to 64 units, nearly all of them): the store's own names
/// (back links, handles' names) carry only their display form.
fn with_upcased<R>(display: &[u16], f: impl FnOnce(&[u16]) -> R) -> R {
    const STACK: usize = 64;
    if display.len() <= STACK {
        let mut buf = [0u16; STACK];
        for (b, &u) in buf.iter_mut().zip(display) {
            *b = upcase_unit(u);
        }
        f(&buf[..display.len()])
    } else {
        f(&upcase(display))
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;
    use crate::name::wide;

    fn nm(s: &str) -> Name {
        Name::new(&wide(s)).unwrap()
    }

    /// `remove_exact` takes a slot out whole and puts it back when it keeps case twins (A5,
    /// case-sensitive directories) or does not hold the spelling asked for.
    #[test]
    fn remove_exact_keeps_case_twins_and_other_spellings() {
        let mut d = Dir {
            case_sensitive: true,
            ..Dir::default()
        };
        d.insert(&nm("readme"), FileId(1 << 32 | 1));
        d.insert(&nm("README"), FileId(1 << 32 | 2));
        d.insert(&nm("other"), FileId(1 << 32 | 3));
        assert!(
            d.remove_exact(&wide("ReadMe")).is_none(),
            "no such spelling"
        );
        assert_eq!(d.count, 3);
        let gone = d.remove_exact(&wide("readme")).expect("exact spelling");
        assert_eq!(gone.id(), FileId(1 << 32 | 1));
        assert_eq!(d.count, 2);
        assert_eq!(
            d.find_exact(&wide("README")).unwrap().id(),
            FileId(1 << 32 | 2)
        );
        assert!(d.find_exact(&wide("readme")).is_none());
        assert!(d.remove_exact(&wide("README")).is_some());
        assert!(
            !d.entries.contains_key(&wide("README")[..]),
            "an emptied slot goes"
        );
        // A name longer than the stack buffer of `with_upcased`.
        let long: String = "x".repeat(100);
        d.insert(&nm(&long), FileId(1 << 32 | 4));
        assert!(d.find_exact(&wide(&long)).is_some());
        assert!(d.remove_exact(&wide(&long)).is_some());
        assert_eq!(d.count, 1);
    }

    /// Directory entries are most of the engine's memory per file (ENGINE-BENCH.md): keep them
    /// at 32 bytes (the name, in place up to 11 units, and the id with the pending bit), and a
    /// short name without an allocation of its own. (They were 24 bytes with the name always
    /// boxed, plus the box's 32-byte allocation from malloc for a short name: 56 in all.)
    #[test]
    fn directory_entry_layout_stays_small() {
        assert_eq!(std::mem::size_of::<Named>(), 32);
        assert_eq!(std::mem::size_of::<Names>(), 32);
        let units: Vec<u16> = "f0000001".encode_utf16().collect();
        let n = Named::new(Units::new(&units), FileId(1 << 32));
        assert!(matches!(n.display, Units::Inline { .. }));
        assert_eq!(&*n.display, &units[..]);
    }
}
