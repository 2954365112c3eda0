//! Fuzzes path resolution and the path-taking operations (`Volume::resolve`, `locate`,
//! `open_path` and the `*_path` calls; rules A3, A4, A5) on a small volume with junctions,
//! relative and absolute symlinks, a symlink loop, a link through `..`, a link to a mapped and
//! to an unmapped drive, a case-sensitive directory with case twins, and a third-party
//! reparse point.
//!
//! The input is a list of operations, each an opcode byte and one or two paths of arbitrary
//! UTF-16 (bytes map to an alphabet of separators, dots, drive prefixes and the names on the
//! volume, or escape to any unit, unpaired surrogates included). Properties:
//! * nothing panics, whatever the path;
//! * `check()` holds after every operation that changes the volume;
//! * a `resolve` that succeeds names a live file, and `locate` agrees with it;
//! * closing every handle opened leaves no handle behind, and `check()` still holds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vfs_core::name::narrow;
use vfs_core::*;

/// Units the path bytes map to: what makes paths reach interesting places.
const ALPHABET: &[&str] = &[
    "\\", "\\", "\\", "/", ".", "..", "a", "A", "b", "B", "d", "j", "J", "s", "loop", "up", "cs",
    "x", "X", "f", "third", "toD", "toE", "C:", "D:", "\\??\\", "\\\\?\\", ":", "*", "é", "É", "ß",
    "\u{0}",
];

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    /// A path: a length byte, then that many tokens; a token byte at or above 0xF0 is an
    /// escape followed by one raw UTF-16 unit.
    fn path(&mut self) -> Option<Vec<u16>> {
        let len = self.byte()? % 16;
        let mut out = Vec::new();
        for _ in 0..len {
            let b = self.byte()?;
            if b >= 0xF0 {
                let lo = self.byte()?;
                let hi = self.byte()?;
                out.push(u16::from_le_bytes([lo, hi]));
            } else {
                out.extend(ALPHABET[b as usize % ALPHABET.len()].encode_utf16());
            }
        }
        Some(out)
    }
}

fn volume() -> Volume {
    let mut opts = VolumeOptions::default();
    opts.drive_map.insert('D', "/host/d".into());
    let v = Volume::new(opts);
    v.create_path(r"\d", &NewFile::dir()).unwrap();
    v.create_path(r"\d\b", &NewFile::dir()).unwrap();
    v.write_file_path(r"\d\f", b"data").unwrap();
    v.hard_link_path(r"\d\f", r"\d\b\x").unwrap();
    v.create_junction(r"\j", r"C:\d").unwrap();
    v.create_junction(r"\d\b\up", r"C:\j\b").unwrap();
    v.create_symlink(r"\s", r"d\b", true).unwrap();
    v.create_symlink(r"\d\b\a", r"..\f", false).unwrap();
    v.create_symlink(r"\d\abs", r"C:\d\b\x", false).unwrap();
    v.create_symlink(r"\loop", "loop", false).unwrap();
    v.create_symlink(r"\toD", r"D:\x", true).unwrap();
    v.create_symlink(r"\toE", r"E:\x", true).unwrap();
    let cs = v.create_path(r"\cs", &NewFile::dir()).unwrap();
    v.set_case_sensitive(cs, true).unwrap();
    v.create_path(r"\cs\x", &NewFile::file()).unwrap();
    v.create_path(r"\cs\X", &NewFile::file()).unwrap();
    let third = v.create_path(r"\third", &NewFile::file()).unwrap();
    let rp = reparse::ReparseBuffer::other(0x0000_1234, Some([7; 16]), b"opaque").unwrap();
    v.set_reparse_point(third, rp.as_bytes()).unwrap();
    v.check().unwrap();
    v
}

fn disposition(b: u8) -> Disposition {
    match b % 6 {
        0 => Disposition::Open,
        1 => Disposition::Create,
        2 => Disposition::OpenIf,
        3 => Disposition::Overwrite,
        4 => Disposition::OverwriteIf,
        _ => Disposition::Supersede,
    }
}

fn checked(v: &Volume) {
    if let Err(e) = v.check() {
        panic!("check() failed: {e}");
    }
}

fuzz_target!(|input: &[u8]| {
    let v = volume();
    let mut r = Reader(input);
    let mut handles: Vec<HandleId> = Vec::new();
    let mut ops = 0;
    while let Some(op) = r.byte() {
        ops += 1;
        if ops > 64 {
            break;
        }
        let Some(p) = r.path() else { break };
        let s = narrow(&p);
        match op % 12 {
            0 | 1 => {
                let follow = op & 0x80 != 0;
                let resolved = v.resolve(&p, follow);
                let located = v.locate(&p, follow);
                if let Ok(id) = resolved {
                    assert!(v.stat(id).is_ok(), "resolve gave a dead id");
                    assert_eq!(located, Ok(Location::File(id)));
                }
            }
            2 | 3 => {
                let Some(b) = r.byte() else { break };
                let opts = OpenOptions {
                    disposition: disposition(b),
                    kind: match (b >> 3) % 3 {
                        0 => None,
                        1 => Some(FileKind::File),
                        _ => Some(FileKind::Directory),
                    },
                    open_reparse_point: b & 0x20 != 0,
                    delete_on_close: b & 0x40 != 0,
                    access: Access {
                        read: true,
                        write: b & 0x80 != 0,
                        delete: b & 0x01 != 0,
                    },
                    share: if b & 0x02 != 0 {
                        Share::READ_WRITE
                    } else {
                        Share::ALL
                    },
                    new_file: NewFile::file(),
                };
                if let Ok(opened) = v.open_path(&p, &opts) {
                    handles.push(opened.handle);
                }
                checked(&v);
            }
            4 => {
                let Some(t) = r.path() else { break };
                let _ = v.create_symlink(&s, &narrow(&t), op & 0x80 != 0);
                checked(&v);
            }
            5 => {
                let Some(t) = r.path() else { break };
                let _ = v.create_junction(&s, &narrow(&t));
                checked(&v);
            }
            6 => {
                let kind = match op >> 6 {
                    0 => UnlinkKind::File,
                    1 => UnlinkKind::Directory,
                    _ => UnlinkKind::Any,
                };
                let _ = v.delete_path(&s, kind);
                checked(&v);
            }
            7 => {
                let Some(t) = r.path() else { break };
                let flags = RenameFlags {
                    replace_if_exists: op & 0x80 != 0,
                    posix_semantics: op & 0x40 != 0,
                    ignore_readonly: op & 0x20 != 0,
                };
                let _ = v.rename_path(&s, &narrow(&t), flags);
                checked(&v);
            }
            8 => {
                let Some(t) = r.path() else { break };
                let _ = v.hard_link_path(&s, &narrow(&t));
                checked(&v);
            }
            9 => {
                let _ = v.create_path(
                    &s,
                    &if op & 0x80 != 0 {
                        NewFile::dir()
                    } else {
                        NewFile::file()
                    },
                );
                checked(&v);
            }
            10 if !handles.is_empty() => {
                let h = handles[p.len() % handles.len()];
                let flags = DispositionFlags {
                    delete: op & 0x80 != 0,
                    posix_semantics: op & 0x40 != 0,
                    ignore_readonly: op & 0x20 != 0,
                };
                let _ = v.set_disposition(h, flags);
                checked(&v);
            }
            11 if !handles.is_empty() => {
                let h = handles.swap_remove(p.len() % handles.len());
                v.close(h).expect("an open handle closes");
                checked(&v);
            }
            _ => {
                let _ = v.read_dir_path(&s);
                let _ = v.stat_path(&s, op & 0x80 != 0);
                if let Ok(id) = v.resolve(&s, false) {
                    let _ = v.link_paths(id);
                }
            }
        }
    }
    for h in handles {
        v.close(h).expect("an open handle closes");
    }
    assert_eq!(v.open_handle_count(), 0);
    checked(&v);
});
