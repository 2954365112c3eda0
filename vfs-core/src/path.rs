//! Paths as callers hand them to the engine's path API ([`VolumePath`]).
//!
//! A caller's path is parsed once, when it enters the engine, into components whose names are
//! validated [`crate::Name`]s; the one walker (`volume/resolve.rs`) then follows them. The
//! forms accepted are those Windows callers use on a volume: `\a\b`, `a\b` (from the root),
//! `/a/b`, `C:\a\b` on the volume's own letter, `\??\C:\a` and `\\?\C:\a` (no `.`/`..`
//! normalization: NTFS refuses them as names), `\\.\C:\a`.

use crate::wtf16::wide;
use std::borrow::Cow;

/// A path in any form the path API accepts: a Rust string, or WTF-16 units (names may hold
/// unpaired surrogates, A5), owned or borrowed. One path API serves both, so that there is no
/// second, `_w`, spelling of each operation.
pub trait VolumePath {
    /// The path's UTF-16 units.
    fn units(&self) -> Cow<'_, [u16]>;
}

impl VolumePath for str {
    fn units(&self) -> Cow<'_, [u16]> {
        Cow::Owned(wide(self))
    }
}

impl VolumePath for String {
    fn units(&self) -> Cow<'_, [u16]> {
        Cow::Owned(wide(self))
    }
}

impl VolumePath for [u16] {
    fn units(&self) -> Cow<'_, [u16]> {
        Cow::Borrowed(self)
    }
}

impl VolumePath for Vec<u16> {
    fn units(&self) -> Cow<'_, [u16]> {
        Cow::Borrowed(self)
    }
}

impl<const N: usize> VolumePath for [u16; N] {
    fn units(&self) -> Cow<'_, [u16]> {
        Cow::Borrowed(self)
    }
}

impl<P: VolumePath + ?Sized> VolumePath for &P {
    fn units(&self) -> Cow<'_, [u16]> {
        (**self).units()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_units_give_the_same_units() {
        let units = wide(r"\d\é");
        assert_eq!(r"\d\é".units(), units.units());
        assert_eq!(String::from(r"\d\é").units(), units[..].units());
        // Unpaired surrogates survive: only the units form can carry them.
        let lone = [b'\\' as u16, 0xD800];
        assert_eq!(&*lone.units(), &lone[..]);
    }
}
