//! [`Units`]: the UTF-16 units of a name the store keeps (a directory's key, a directory
//! entry's name as typed, a file's back link), short names in place.
//!
//! Every file keeps its name three times (the upcased key of its directory's B-tree, the
//! entry's name as typed, the name in the file's back link). As boxed slices each copy was a
//! separate allocation that malloc rounds up and prefixes with a header: 32 bytes for a name
//! of up to 12 units, 96 bytes per file for the three, more than the inode itself. A name of
//! up to [`INLINE`] units (most file names: `index.js`, `README.md`, `f0000001`) is kept in
//! the 24 bytes the value occupies anyway; longer names stay on the heap.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// Units kept in place: what fits beside the variant tag and a one-byte length in 24 bytes.
pub(crate) const INLINE: usize = 11;

/// The units of a stored name; reads as a `[u16]` (compares, orders and hashes as one).
#[derive(Clone)]
pub(crate) enum Units {
    /// `len` ≤ [`INLINE`] units in place.
    Inline { len: u8, units: [u16; INLINE] },
    /// Longer names (never one of [`INLINE`] units or fewer).
    Heap(Box<[u16]>),
}

impl Units {
    pub fn new(units: &[u16]) -> Units {
        if units.len() <= INLINE {
            let mut buf = [0u16; INLINE];
            buf[..units.len()].copy_from_slice(units);
            Units::Inline {
                len: units.len() as u8,
                units: buf,
            }
        } else {
            Units::Heap(units.into())
        }
    }
}

impl Default for Units {
    fn default() -> Self {
        Units::new(&[])
    }
}

impl std::ops::Deref for Units {
    type Target = [u16];
    #[inline]
    fn deref(&self) -> &[u16] {
        match self {
            Units::Inline { len, units } => &units[..*len as usize],
            Units::Heap(b) => b,
        }
    }
}

impl Borrow<[u16]> for Units {
    #[inline]
    fn borrow(&self) -> &[u16] {
        self
    }
}

impl From<&[u16]> for Units {
    fn from(u: &[u16]) -> Units {
        Units::new(u)
    }
}

impl From<Box<[u16]>> for Units {
    fn from(b: Box<[u16]>) -> Units {
        if b.len() <= INLINE {
            Units::new(&b)
        } else {
            Units::Heap(b)
        }
    }
}

impl From<Vec<u16>> for Units {
    fn from(v: Vec<u16>) -> Units {
        v.into_boxed_slice().into()
    }
}

impl From<&Units> for Box<[u16]> {
    fn from(u: &Units) -> Box<[u16]> {
        (**u).into()
    }
}

impl std::fmt::Debug for Units {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf16_lossy(self))
    }
}

/// The units of a directory key as a B-tree query: orders exactly as the slice does
/// ([`cmp_units`]), only faster, so that a directory's B-tree searches with it (`Borrow<Key>`
/// for [`Units`]). Comparing keys was a tenth of the daemon's own time in name operations:
/// names in one directory share long prefixes (`f0000001`, `index.d.ts`), and the slice's
/// order compares them a unit at a time.
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub(crate) struct Key([u16]);

impl Key {
    #[inline]
    pub fn new(units: &[u16]) -> &Key {
        // SAFETY: Key is a repr(transparent) wrapper of [u16]: the same layout and metadata.
        unsafe { &*(units as *const [u16] as *const Key) }
    }
}

impl PartialOrd for Key {
    #[inline]
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    #[inline]
    fn cmp(&self, other: &Key) -> Ordering {
        cmp_units(&self.0, &other.0)
    }
}

impl Borrow<Key> for Units {
    #[inline]
    fn borrow(&self) -> &Key {
        Key::new(self)
    }
}

/// The slice order of two unit strings (lexicographic by unit, then by length), four units
/// at a time: the first differing unit of two 64-bit words is found from their XOR.
#[inline]
pub(crate) fn cmp_units(a: &[u16], b: &[u16]) -> Ordering {
    let n = a.len().min(b.len());
    let word = |u: &[u16]| {
        u64::from(u[0]) | u64::from(u[1]) << 16 | u64::from(u[2]) << 32 | u64::from(u[3]) << 48
    };
    let mut i = 0;
    while i + 4 <= n {
        let (x, y) = (word(&a[i..i + 4]), word(&b[i..i + 4]));
        if x != y {
            let d = i + ((x ^ y).trailing_zeros() / 16) as usize;
            return a[d].cmp(&b[d]);
        }
        i += 4;
    }
    while i < n {
        if a[i] != b[i] {
            return a[i].cmp(&b[i]);
        }
        i += 1;
    }
    a.len().cmp(&b.len())
}

// Equality, order and hash are the slice's, so that `Borrow<[u16]>` (and `Borrow<Key>`, the
// same order) keeps B-tree look-ups consistent with the keys' own order.
impl PartialEq for Units {
    fn eq(&self, other: &Units) -> bool {
        **self == **other
    }
}
impl Eq for Units {}
impl PartialOrd for Units {
    fn partial_cmp(&self, other: &Units) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Units {
    #[inline]
    fn cmp(&self, other: &Units) -> Ordering {
        cmp_units(self, other)
    }
}
impl Hash for Units {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (**self).hash(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// The fast order is the slice's, for every pair (small alphabet: long shared
        /// prefixes and every length around the four-unit words).
        #[test]
        fn the_key_order_is_the_slice_order(
            a in proptest::collection::vec(prop_oneof![Just(0u16), Just(0x41), Just(0x42), Just(0xFFFF), Just(0x0100)], 0..14),
            b in proptest::collection::vec(prop_oneof![Just(0u16), Just(0x41), Just(0x42), Just(0xFFFF), Just(0x0100)], 0..14),
        ) {
            prop_assert_eq!(cmp_units(&a, &b), a.cmp(&b));
            prop_assert_eq!(Key::new(&a).cmp(Key::new(&b)), a.cmp(&b));
            let mut c = a.clone();
            c.extend(&b);
            prop_assert_eq!(cmp_units(&c, &a), c.cmp(&a));
        }
    }

    fn w(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn short_names_are_in_place_and_long_ones_on_the_heap() {
        assert_eq!(std::mem::size_of::<Units>(), 24);
        for s in [
            "",
            "a",
            "f0000001",
            "package.jso",
            "package.json",
            &"x".repeat(255),
        ] {
            let u = Units::new(&w(s));
            assert_eq!(&*u, &w(s)[..], "{s}");
            assert_eq!(matches!(u, Units::Inline { .. }), s.len() <= INLINE, "{s}");
            assert_eq!(Units::from(w(s)), u);
            assert_eq!(Units::from(w(s).into_boxed_slice()), u);
            assert!(matches!(Units::from(w(s)), Units::Inline { .. }) == (s.len() <= INLINE));
            assert_eq!(Box::<[u16]>::from(&u), w(s).into_boxed_slice());
        }
    }

    #[test]
    fn order_and_lookups_are_the_slices() {
        let names = ["B", "a", "ab", "abcdefghijkl", "abcdefghijk", "", "Z"];
        let mut m: BTreeMap<Units, usize> = BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            m.insert(Units::new(&w(n)), i);
        }
        let mut sorted: Vec<Vec<u16>> = names.iter().map(|n| w(n)).collect();
        sorted.sort();
        let keys: Vec<Vec<u16>> = m.keys().map(|k| k.to_vec()).collect();
        assert_eq!(keys, sorted);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(m.get(&w(n)[..]), Some(&i));
        }
        assert_eq!(m.get(&w("abcdefghij")[..]), None);
    }
}
