//! Unit tests, one or more per rule; names cite the rule (docs/NTFS-RULES.md ids).

use super::*;
use crate::reparse::{self, ReparseBuffer};
use crate::wtf16::{narrow, wide as w};

fn nm(s: &str) -> Name {
    Name::from_str_checked(s).unwrap()
}

fn vol() -> Volume {
    Volume::new(VolumeOptions::default())
}
fn legacy() -> Volume {
    Volume::new(VolumeOptions {
        delete_semantics: DeleteSemantics::Legacy,
        ..VolumeOptions::default()
    })
}
fn open_del(v: &Volume, p: &str, share: Share) -> Result<HandleId> {
    v.open_path(
        p,
        &OpenOptions {
            access: Access {
                read: true,
                write: false,
                delete: true,
            },
            share,
            ..OpenOptions::default()
        },
    )
    .map(|x| x.handle)
}
fn open_rw(v: &Volume, p: &str, share: Share) -> Result<HandleId> {
    v.open_path(
        p,
        &OpenOptions {
            share,
            ..OpenOptions::default()
        },
    )
    .map(|x| x.handle)
}
fn names(v: &Volume, dir: &str) -> Vec<String> {
    v.read_dir_path(dir)
        .unwrap()
        .into_iter()
        .map(|e| narrow(&e.name))
        .collect()
}

// ---------------------------------------------------------------- inode store

#[test]
fn file_ids_are_never_reused_while_volume_lives() {
    let v = vol();
    let a = v.create_path(r"\a", &NewFile::file()).unwrap();
    v.delete_path(r"\a", UnlinkKind::File).unwrap();
    let b = v.create_path(r"\b", &NewFile::file()).unwrap();
    assert_ne!(a, b);
    assert_eq!(a.slot(), b.slot(), "slot reused, generation differs");
    assert_eq!(v.stat(a), Err(Error::StaleFileId));
    v.check().unwrap();
}

#[test]
fn metadata_is_shared_by_all_names_a1() {
    let v = vol();
    v.write_file_path(r"\a", b"data").unwrap();
    v.hard_link_path(r"\a", r"\b").unwrap();
    let id = v.resolve(r"\b", true).unwrap();
    v.set_attributes(id, attrs::HIDDEN | attrs::READONLY)
        .unwrap();
    v.set_owner_mode(id, Some(7), Some(8), Some(0o600)).unwrap();
    v.set_security(id, Some(vec![1, 2, 3])).unwrap();
    let sa = v.stat_path(r"\a", true).unwrap();
    assert_eq!(sa.id, id);
    assert_eq!(
        sa.attributes & (attrs::HIDDEN | attrs::READONLY),
        attrs::HIDDEN | attrs::READONLY
    );
    assert_eq!((sa.uid, sa.gid, sa.mode), (7, 8, 0o600));
    assert_eq!(
        v.security(v.resolve(r"\a", true).unwrap()).unwrap(),
        Some(vec![1, 2, 3])
    );
}

#[test]
fn new_file_has_four_timestamps_and_archive() {
    let v = vol();
    let before = now();
    let id = v.create_path(r"\f", &NewFile::file()).unwrap();
    let s = v.stat(id).unwrap();
    assert!(s.times.creation >= before && s.times.change >= before);
    assert_eq!(s.times.creation, s.times.last_write);
    assert_ne!(s.attributes & attrs::ARCHIVE, 0);
    let d = v.create_path(r"\d", &NewFile::dir()).unwrap();
    assert_eq!(
        v.stat(d).unwrap().attributes & attrs::DIRECTORY,
        attrs::DIRECTORY
    );
}

// ---------------------------------------------------------------- names (A5)

#[test]
fn lookup_is_case_insensitive_and_case_preserving_a5() {
    let v = vol();
    v.create_path(r"\ReadMe.TXT", &NewFile::file()).unwrap();
    assert!(v.resolve(r"\README.txt", true).is_ok());
    assert!(v.resolve(r"\readme.txt", true).is_ok());
    assert_eq!(names(&v, r"\"), vec!["ReadMe.TXT"]);
    assert_eq!(
        v.create_path(r"\README.TXT", &NewFile::file()),
        Err(Error::NameCollision)
    );
}

#[test]
fn lookup_upcases_beyond_ascii_a5() {
    let v = vol();
    v.create_path(r"\Ölfaß", &NewFile::file()).unwrap();
    assert!(v.resolve(r"\ÖLFAß", true).is_ok());
    assert!(v.resolve(r"\ölfaß", true).is_ok());
    v.create_path(r"\дом", &NewFile::file()).unwrap();
    assert!(v.resolve(r"\ДОМ", true).is_ok());
}

#[test]
fn enumeration_is_in_upcased_utf16_order_a5() {
    let v = vol();
    for n in ["b", "A", "_x", "a1", "Z", "é", "[", "~"] {
        v.create_path(&format!(r"\{n}"), &NewFile::file()).unwrap();
    }
    // Upcased UTF-16 order: 'A'(41) 'A1' 'B'(42) 'Z'(5A) '['(5B) '_'(5F) '~'(7E) 'É'(C9).
    assert_eq!(
        names(&v, r"\"),
        vec!["A", "a1", "b", "Z", "[", "_x", "~", "é"]
    );
}

#[test]
fn enumeration_resumes_from_cursor_while_directory_changes_a5() {
    let v = vol();
    let root = v.root();
    for i in 0..10 {
        v.create_path(&format!(r"\f{i}"), &NewFile::file()).unwrap();
    }
    let first = v.read_dir(root, None, 3).unwrap();
    assert_eq!(first.len(), 3);
    let cur = first.last().unwrap().cursor.clone();
    // Remove the entry at the cursor and one before; add one before and one after.
    v.delete_path(r"\f2", UnlinkKind::File).unwrap();
    v.delete_path(r"\f0", UnlinkKind::File).unwrap();
    v.create_path(r"\f1a", &NewFile::file()).unwrap();
    v.create_path(r"\f5a", &NewFile::file()).unwrap();
    let rest: Vec<String> = v
        .read_dir(root, Some(&cur), 100)
        .unwrap()
        .into_iter()
        .map(|e| narrow(&e.name))
        .collect();
    assert_eq!(rest, vec!["f3", "f4", "f5", "f5a", "f6", "f7", "f8", "f9"]);
}

#[test]
fn invalid_names_refused_store_unchanged_a5() {
    let v = vol();
    for bad in [r"\a:b", r"\a*", r"\a?", "\\a\"", r"\a<", r"\a>", r"\a|"] {
        assert_eq!(
            v.create_path(bad, &NewFile::file()),
            Err(Error::ObjectNameInvalid),
            "{bad}"
        );
    }
    let long = format!(r"\{}", "x".repeat(256));
    assert_eq!(
        v.create_path(&long, &NewFile::file()),
        Err(Error::NameTooLong)
    );
    let ok = format!(r"\{}", "x".repeat(255));
    v.create_path(&ok, &NewFile::file()).unwrap();
    let root = v.root();
    // A name is validated where it is made, once: `create` only takes a valid [`Name`].
    for bad in [&w(".")[..], &w(".."), &[]] {
        assert_eq!(
            Name::new(bad).and_then(|n| v.create(root, &n, &NewFile::file())),
            Err(Error::ObjectNameInvalid)
        );
    }
    assert_eq!(v.dir_len(root).unwrap(), 1);
    v.check().unwrap();
}

#[test]
fn unpaired_surrogate_names_are_stored_wtf16_a5() {
    let v = vol();
    let root = v.root();
    let name = [0x61, 0xD800, 0x62];
    let id = v
        .create(root, &Name::new(&name).unwrap(), &NewFile::file())
        .unwrap();
    assert_eq!(v.lookup(root, &Name::new(&name).unwrap()).unwrap(), id);
    assert_eq!(v.read_dir(root, None, 10).unwrap()[0].name, name.to_vec());
}

#[test]
fn case_sensitive_dir_allows_twins_and_is_inherited_a5() {
    let v = vol();
    let d = v.create_path(r"\cs", &NewFile::dir()).unwrap();
    v.set_case_sensitive(d, true).unwrap();
    v.create_path(r"\cs\a", &NewFile::file()).unwrap();
    v.create_path(r"\cs\A", &NewFile::file()).unwrap();
    assert_ne!(
        v.resolve(r"\cs\a", true).unwrap(),
        v.resolve(r"\cs\A", true).unwrap()
    );
    assert!(v.resolve(r"\CS\a", true).is_ok(), "root stays insensitive");
    let sub = v.create_path(r"\cs\sub", &NewFile::dir()).unwrap();
    assert!(
        v.stat(sub).unwrap().case_sensitive,
        "inherited by new subdirectories"
    );
    assert_eq!(
        v.create_path(r"\cs\a", &NewFile::file()),
        Err(Error::NameCollision)
    );
}

#[test]
fn case_sensitive_flag_refused_on_files_and_while_twins_exist_a5() {
    let v = vol();
    let f = v.create_path(r"\f", &NewFile::file()).unwrap();
    assert_eq!(v.set_case_sensitive(f, true), Err(Error::InvalidParameter));
    let d = v.create_path(r"\cs", &NewFile::dir()).unwrap();
    let old = v.create_path(r"\cs\old", &NewFile::dir()).unwrap();
    v.set_case_sensitive(d, true).unwrap();
    assert!(
        !v.stat(old).unwrap().case_sensitive,
        "existing subdirectories keep theirs"
    );
    v.create_path(r"\cs\x", &NewFile::file()).unwrap();
    v.create_path(r"\cs\X", &NewFile::file()).unwrap();
    assert_eq!(
        v.set_case_sensitive(d, false),
        Err(Error::CaseDifferingNamesInDir)
    );
    v.delete_path(r"\cs\X", UnlinkKind::File).unwrap();
    v.set_case_sensitive(d, false).unwrap();
    v.check().unwrap();
}

// ---------------------------------------------------------------- hard links (A1)

#[test]
fn hard_link_of_directory_is_file_is_a_directory_a1() {
    let v = vol();
    v.create_path(r"\d", &NewFile::dir()).unwrap();
    assert_eq!(
        v.hard_link_path(r"\d", r"\d2"),
        Err(Error::FileIsADirectory)
    );
    assert_eq!(Error::FileIsADirectory.win32(), 5);
}

#[test]
fn hard_link_to_existing_name_in_any_case_collides_a1() {
    let v = vol();
    v.create_path(r"\a", &NewFile::file()).unwrap();
    v.create_path(r"\Other", &NewFile::file()).unwrap();
    assert_eq!(
        v.hard_link_path(r"\a", r"\OTHER"),
        Err(Error::NameCollision)
    );
    assert_eq!(v.hard_link_path(r"\a", r"\A"), Err(Error::NameCollision));
    assert_eq!(v.stat_path(r"\a", true).unwrap().links, 1);
}

#[test]
fn hard_link_missing_parent_and_source_a1() {
    let v = vol();
    v.create_path(r"\a", &NewFile::file()).unwrap();
    assert_eq!(
        v.hard_link_path(r"\a", r"\no\b"),
        Err(Error::ObjectPathNotFound)
    );
    assert_eq!(
        v.hard_link_path(r"\zz", r"\b"),
        Err(Error::ObjectNameNotFound)
    );
}

#[test]
fn at_most_1024_names_per_file_a1() {
    let v = vol();
    v.create_path(r"\f0", &NewFile::file()).unwrap();
    for i in 1..1024 {
        v.hard_link_path(r"\f0", &format!(r"\f{i}")).unwrap();
    }
    assert_eq!(v.stat_path(r"\f0", true).unwrap().links, 1024);
    assert_eq!(
        v.hard_link_path(r"\f0", r"\f1024"),
        Err(Error::TooManyLinks)
    );
    assert_eq!(Error::TooManyLinks.win32(), 1142);
    v.check().unwrap();
}

#[test]
fn names_lists_every_link_as_find_first_file_name_a1() {
    let v = vol();
    v.create_path(r"\Windows", &NewFile::dir()).unwrap();
    v.create_path(r"\Windows\explorer.exe", &NewFile::file())
        .unwrap();
    v.hard_link_path(r"\windows\EXPLORER.EXE", r"\copy.exe")
        .unwrap();
    let copy = v.resolve(r"\copy.exe", false).unwrap();
    let mut p: Vec<String> = v
        .link_paths(copy)
        .unwrap()
        .iter()
        .map(LinkPath::to_string_lossy)
        .collect();
    p.sort();
    assert_eq!(p, vec![r"\Windows\explorer.exe", r"\copy.exe"]);
    let id = v.resolve(r"\copy.exe", true).unwrap();
    let n = v.names(id).unwrap();
    assert_eq!(n.len(), 2);
    assert!(n
        .iter()
        .any(|l| l.parent == v.root() && narrow(&l.name) == "copy.exe"));
}

#[test]
fn write_through_one_name_is_seen_through_every_name_a1() {
    let v = vol();
    v.write_file_path(r"\a", b"one").unwrap();
    v.hard_link_path(r"\a", r"\b").unwrap();
    let id = v.resolve(r"\b", true).unwrap();
    v.write(id, 3, b" two").unwrap();
    assert_eq!(v.read_file_path(r"\a").unwrap(), b"one two");
}

/// `write_keep_times` writes as `write` does (every name sees it, ARCHIVE set, DiskFull
/// whole) but leaves LastWriteTime and ChangeTime; `write` stamps them.
#[test]
fn write_keep_times_writes_without_stamping_a1_a8() {
    let v = Volume::new(VolumeOptions {
        capacity: Some(1 << 20),
        ..VolumeOptions::default()
    });
    let id = v.write_file_path(r"\a", b"one").unwrap();
    v.hard_link_path(r"\a", r"\b").unwrap();
    // Attributes first: setting them changes ChangeTime.
    v.set_attributes(id, attrs::NORMAL).unwrap();
    v.set_times(
        id,
        SetTimes {
            last_write: Some(1_000),
            change: Some(2_000),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(v.write_keep_times(id, 3, b" two"), Ok(4));
    assert_eq!(v.read_file_path(r"\b").unwrap(), b"one two");
    let st = v.stat(id).unwrap();
    assert_eq!((st.times.last_write, st.times.change), (1_000, 2_000));
    assert_ne!(st.attributes & attrs::ARCHIVE, 0);
    assert_eq!(
        v.write_keep_times(id, 0, &vec![7; 2 << 20]),
        Err(Error::DiskFull)
    );
    assert_eq!(v.read_file_path(r"\a").unwrap(), b"one two");
    v.write(id, 0, b"O").unwrap();
    let st = v.stat(id).unwrap();
    assert!(st.times.last_write > 1_000 && st.times.change > 2_000);
    v.check().unwrap();
}

#[test]
fn link_count_equals_entries_after_unlink_a1() {
    let v = vol();
    v.create_path(r"\a", &NewFile::file()).unwrap();
    v.hard_link_path(r"\a", r"\b").unwrap();
    v.hard_link_path(r"\a", r"\c").unwrap();
    v.delete_path(r"\b", UnlinkKind::File).unwrap();
    assert_eq!(v.stat_path(r"\a", true).unwrap().links, 2);
    v.check().unwrap();
}

#[test]
fn hard_link_to_symlink_links_the_symlink_itself_a1() {
    let v = vol();
    v.write_file_path(r"\target", b"t").unwrap();
    let link = v.create_symlink(r"\ln", "target", false).unwrap();
    v.hard_link_path(r"\ln", r"\ln2").unwrap();
    assert_eq!(v.resolve(r"\ln2", false).unwrap(), link);
    assert_eq!(v.stat(link).unwrap().links, 2);
    assert_eq!(v.stat_path(r"\target", true).unwrap().links, 1);
    assert_eq!(v.read_file_path(r"\ln2").unwrap(), b"t");
}

// ---------------------------------------------------------------- data

#[test]
fn sparse_file_memory_follows_written_data() {
    let v = vol();
    let id = v.create_path(r"\iso", &NewFile::file()).unwrap();
    v.set_size(id, 4 << 30).unwrap();
    v.write(id, 1 << 30, &vec![1u8; 1 << 20]).unwrap();
    let s = v.stat(id).unwrap();
    assert_eq!(s.size, 4 << 30);
    assert!(s.allocated <= (1 << 20) + (128 << 10));
}

#[test]
fn offsets_past_max_file_size_are_refused() {
    let v = vol();
    let id = v.create_path(r"\f", &NewFile::file()).unwrap();
    assert_eq!(v.write(id, MAX_FILE_SIZE, b"x"), Err(Error::FileTooLarge));
    assert_eq!(v.set_size(id, u64::MAX), Err(Error::FileTooLarge));
    assert_eq!(v.stat(id).unwrap().size, 0);
}

// ---------------------------------------------------------------- deletion (A2)

#[test]
fn posix_delete_removes_name_at_once_open_handle_keeps_data_a2() {
    let v = vol();
    let id = v.write_file_path(r"\f", b"keep").unwrap();
    let h = open_rw(&v, r"\f", Share::ALL).unwrap();
    v.delete_path(r"\f", UnlinkKind::File).unwrap();
    assert_eq!(v.resolve(r"\f", true), Err(Error::ObjectNameNotFound));
    v.create_path(r"\f", &NewFile::file()).unwrap();
    let mut b = [0u8; 4];
    assert_eq!(v.read(id, 0, &mut b).unwrap(), 4);
    assert_eq!(&b, b"keep");
    assert!(v.stat(id).unwrap().delete_pending);
    v.check().unwrap();
    v.close(h).unwrap();
    assert_eq!(
        v.stat(id),
        Err(Error::StaleFileId),
        "data freed at last close"
    );
    v.check().unwrap();
}

#[test]
fn legacy_delete_keeps_name_pending_until_last_close_a2() {
    let v = legacy();
    let id = v.write_file_path(r"\f", b"x").unwrap();
    let h = open_rw(&v, r"\f", Share::ALL).unwrap();
    v.delete_path(r"\f", UnlinkKind::File).unwrap();
    assert_eq!(names(&v, r"\"), vec!["f"], "name stays visible");
    assert_eq!(open_rw(&v, r"\f", Share::ALL), Err(Error::DeletePending));
    assert_eq!(
        v.create_path(r"\f", &NewFile::file()),
        Err(Error::NameCollision)
    );
    assert_eq!(
        v.stat(id).unwrap().links,
        0,
        "NumberOfLinks excludes pending names"
    );
    assert!(v.stat(id).unwrap().delete_pending);
    v.close(h).unwrap();
    assert!(names(&v, r"\").is_empty());
    assert_eq!(v.stat(id), Err(Error::StaleFileId));
    v.check().unwrap();
}

#[test]
fn legacy_delete_of_one_link_keeps_other_names_a2() {
    let v = legacy();
    let id = v.create_path(r"\a", &NewFile::file()).unwrap();
    v.hard_link_path(r"\a", r"\b").unwrap();
    let h = open_rw(&v, r"\b", Share::ALL).unwrap();
    v.delete_path(r"\a", UnlinkKind::File).unwrap();
    assert_eq!(v.stat(id).unwrap().links, 1);
    assert_eq!(v.stat(id).unwrap().total_links, 2);
    v.close(h).unwrap();
    assert_eq!(v.stat(id).unwrap().links, 1);
    assert_eq!(names(&v, r"\"), vec!["b"]);
}

#[test]
fn delete_read_only_is_cannot_delete_unless_ignored_a2() {
    let v = vol();
    let id = v.create_path(r"\ro", &NewFile::file()).unwrap();
    v.set_attributes(id, attrs::READONLY).unwrap();
    assert_eq!(
        v.delete_path(r"\ro", UnlinkKind::File),
        Err(Error::CannotDelete)
    );
    assert_eq!(Error::CannotDelete.win32(), 5);
    let root = v.root();
    v.unlink(root, &nm("ro"), UnlinkKind::File, true).unwrap();
    v.check().unwrap();
}

#[test]
fn delete_while_handle_lacks_share_delete_is_sharing_violation_a2() {
    let v = vol();
    v.create_path(r"\f", &NewFile::file()).unwrap();
    let h = open_rw(&v, r"\f", Share::READ_WRITE).unwrap();
    assert_eq!(
        v.delete_path(r"\f", UnlinkKind::File),
        Err(Error::SharingViolation)
    );
    v.close(h).unwrap();
    v.delete_path(r"\f", UnlinkKind::File).unwrap();
}

#[test]
fn remove_non_empty_directory_is_directory_not_empty_a2() {
    let v = vol();
    v.create_path(r"\d", &NewFile::dir()).unwrap();
    v.create_path(r"\d\f", &NewFile::file()).unwrap();
    assert_eq!(
        v.delete_path(r"\d", UnlinkKind::Directory),
        Err(Error::DirectoryNotEmpty)
    );
    // At NT level the set-disposition call itself fails.
    let h = open_del(&v, r"\d", Share::ALL).unwrap();
    assert_eq!(
        v.set_disposition(
            h,
            DispositionFlags {
                delete: true,
                ..Default::default()
            }
        ),
        Err(Error::DirectoryNotEmpty)
    );
    v.close(h).unwrap();
}

#[test]
fn delete_file_on_directory_and_remove_directory_on_file_a2() {
    let v = vol();
    v.create_path(r"\d", &NewFile::dir()).unwrap();
    v.create_path(r"\f", &NewFile::file()).unwrap();
    assert_eq!(
        v.delete_path(r"\d", UnlinkKind::File),
        Err(Error::FileIsADirectory)
    );
    assert_eq!(
        v.delete_path(r"\f", UnlinkKind::Directory),
        Err(Error::NotADirectory)
    );
}

#[test]
fn delete_on_close_removes_name_at_close_a2() {
    let v = vol();
    let Opened {
        handle: h, created, ..
    } = v
        .open_path(
            r"\tmp",
            &OpenOptions {
                disposition: Disposition::Create,
                delete_on_close: true,
                access: Access {
                    read: true,
                    write: true,
                    delete: true,
                },
                ..OpenOptions::default()
            },
        )
        .unwrap();
    assert!(created);
    assert!(v.resolve(r"\tmp", true).is_ok());
    v.close(h).unwrap();
    assert_eq!(v.resolve(r"\tmp", true), Err(Error::ObjectNameNotFound));
    v.check().unwrap();
}

#[test]
fn posix_disposition_removes_name_when_that_handle_closes_a2() {
    let v = legacy();
    v.create_path(r"\f", &NewFile::file()).unwrap();
    let other = open_rw(&v, r"\f", Share::ALL).unwrap();
    let h = open_del(&v, r"\f", Share::ALL).unwrap();
    v.set_disposition(
        h,
        DispositionFlags {
            delete: true,
            posix_semantics: true,
            ignore_readonly: false,
        },
    )
    .unwrap();
    assert_eq!(open_rw(&v, r"\f", Share::ALL), Err(Error::DeletePending));
    v.close(h).unwrap();
    assert_eq!(v.resolve(r"\f", true), Err(Error::ObjectNameNotFound));
    let id = v.handle_file(other).unwrap();
    assert!(v.stat(id).is_ok(), "other handle keeps working");
    v.close(other).unwrap();
    v.check().unwrap();
}

#[test]
fn disposition_can_be_cancelled_a2() {
    let v = vol();
    v.create_path(r"\f", &NewFile::file()).unwrap();
    let h = open_del(&v, r"\f", Share::ALL).unwrap();
    v.set_disposition(
        h,
        DispositionFlags {
            delete: true,
            ..Default::default()
        },
    )
    .unwrap();
    v.set_disposition(h, DispositionFlags::default()).unwrap();
    v.close(h).unwrap();
    assert!(v.resolve(r"\f", true).is_ok());
}

#[test]
fn operations_on_closed_handles_and_dead_ids_fail_cleanly() {
    let v = vol();
    let id = v.create_path(r"\f", &NewFile::file()).unwrap();
    let h = open_rw(&v, r"\f", Share::ALL).unwrap();
    v.close(h).unwrap();
    assert_eq!(v.close(h), Err(Error::InvalidHandle));
    assert_eq!(v.handle_file(h), Err(Error::InvalidHandle));
    v.delete_path(r"\f", UnlinkKind::File).unwrap();
    assert_eq!(v.write(id, 0, b"x"), Err(Error::StaleFileId));
    assert_eq!(v.hard_link(id, v.root(), &nm("g")), Err(Error::StaleFileId));
    assert_eq!(v.stat(FileId(0)), Err(Error::StaleFileId));
    assert_eq!(v.stat(FileId(u64::MAX)), Err(Error::StaleFileId));
    v.check().unwrap();
}

#[test]
fn unlinked_open_directory_refuses_new_children() {
    let v = vol();
    let d = v.create_path(r"\d", &NewFile::dir()).unwrap();
    let h = v.open(d, Access::READ, Share::ALL).unwrap();
    v.delete_path(r"\d", UnlinkKind::Directory).unwrap();
    assert_eq!(
        v.create(d, &nm("x"), &NewFile::file()),
        Err(Error::FileDeleted)
    );
    v.close(h).unwrap();
    v.check().unwrap();
}

#[test]
fn pins_keep_deleted_file_valid_until_unpinned() {
    let v = vol();
    let id = v.create_path(r"\f", &NewFile::file()).unwrap();
    v.pin(id).unwrap();
    v.delete_path(r"\f", UnlinkKind::File).unwrap();
    assert!(v.stat(id).is_ok());
    v.check().unwrap();
    v.unpin(id, 1).unwrap();
    assert_eq!(v.stat(id), Err(Error::StaleFileId));
}

// ---------------------------------------------------------------- rename (A6)

#[test]
fn rename_collision_without_replace_a6() {
    let v = vol();
    v.create_path(r"\a", &NewFile::file()).unwrap();
    v.create_path(r"\b", &NewFile::file()).unwrap();
    assert_eq!(
        v.rename_path(r"\a", r"\B", RenameFlags::default()),
        Err(Error::NameCollision)
    );
}

#[test]
fn rename_replace_file_a6() {
    let v = vol();
    v.write_file_path(r"\a", b"A").unwrap();
    let old = v.write_file_path(r"\b", b"B").unwrap();
    let flags = RenameFlags {
        replace_if_exists: true,
        ..Default::default()
    };
    v.rename_path(r"\a", r"\b", flags).unwrap();
    assert_eq!(v.read_file_path(r"\b").unwrap(), b"A");
    assert_eq!(v.stat(old), Err(Error::StaleFileId));
    v.check().unwrap();
}

#[test]
fn rename_file_over_directory_is_access_denied_a6() {
    let v = vol();
    v.create_path(r"\f", &NewFile::file()).unwrap();
    v.create_path(r"\d", &NewFile::dir()).unwrap();
    let flags = RenameFlags {
        replace_if_exists: true,
        ..Default::default()
    };
    assert_eq!(v.rename_path(r"\f", r"\d", flags), Err(Error::AccessDenied));
    v.create_path(r"\e", &NewFile::dir()).unwrap();
    assert_eq!(v.rename_path(r"\e", r"\d", flags), Err(Error::AccessDenied));
}

#[test]
fn rename_directory_over_file_with_replace_succeeds_a6_wine() {
    let v = vol();
    v.create_path(r"\f", &NewFile::file()).unwrap();
    let d = v.create_path(r"\d", &NewFile::dir()).unwrap();
    let flags = RenameFlags {
        replace_if_exists: true,
        ..Default::default()
    };
    v.rename_path(r"\d", r"\f", flags).unwrap();
    assert_eq!(v.resolve(r"\f", true).unwrap(), d);
    v.check().unwrap();
}

#[test]
fn rename_posix_replaces_empty_directory_not_full_one_a6() {
    let v = vol();
    v.create_path(r"\src", &NewFile::dir()).unwrap();
    v.create_path(r"\empty", &NewFile::dir()).unwrap();
    v.create_path(r"\full", &NewFile::dir()).unwrap();
    v.create_path(r"\full\x", &NewFile::file()).unwrap();
    let flags = RenameFlags {
        replace_if_exists: true,
        posix_semantics: true,
        ..Default::default()
    };
    assert_eq!(
        v.rename_path(r"\src", r"\full", flags),
        Err(Error::DirectoryNotEmpty)
    );
    v.rename_path(r"\src", r"\empty", flags).unwrap();
    v.check().unwrap();
}

#[test]
fn rename_into_own_subtree_refused_a6() {
    let v = vol();
    v.create_path(r"\a", &NewFile::dir()).unwrap();
    v.create_path(r"\a\b", &NewFile::dir()).unwrap();
    assert_eq!(
        v.rename_path(r"\a", r"\a\b\c", RenameFlags::default()),
        Err(Error::SharingViolation)
    );
    assert_eq!(
        v.rename_path(r"\a", r"\a\c", RenameFlags::default()),
        Err(Error::SharingViolation)
    );
    v.check().unwrap();
}

#[test]
fn rename_to_other_case_recases_entry_a5_a6() {
    let v = vol();
    let id = v.create_path(r"\readme", &NewFile::file()).unwrap();
    v.rename_path(r"\readme", r"\README", RenameFlags::default())
        .unwrap();
    assert_eq!(names(&v, r"\"), vec!["README"]);
    assert_eq!(v.resolve(r"\readme", true).unwrap(), id);
    v.check().unwrap();
}

#[test]
fn rename_over_another_name_of_same_file_removes_target_name_a6_verify() {
    let v = vol();
    let id = v.create_path(r"\a", &NewFile::file()).unwrap();
    v.hard_link_path(r"\a", r"\b").unwrap();
    assert_eq!(
        v.rename_path(r"\a", r"\b", RenameFlags::default()),
        Err(Error::NameCollision)
    );
    let flags = RenameFlags {
        replace_if_exists: true,
        ..Default::default()
    };
    v.rename_path(r"\a", r"\b", flags).unwrap();
    assert_eq!(names(&v, r"\"), vec!["b"]);
    assert_eq!(v.stat(id).unwrap().links, 1);
    v.check().unwrap();
}

/// `read_dir_ids` lists what `read_dir` lists, in the same order and pages, without stats.
#[test]
fn read_dir_ids_pages_as_read_dir_does_a5() {
    let v = vol();
    for n in ["b", "A", "c.txt", "Zeta", "alpha"] {
        v.create_path(&format!(r"\{n}"), &NewFile::file()).unwrap();
    }
    let root = v.root();
    let full = v.read_dir(root, None, 100).unwrap();
    let ids = v.read_dir_ids(root, None, 100).unwrap();
    assert_eq!(full.len(), 5);
    for (e, n) in full.iter().zip(&ids) {
        assert_eq!((&e.name, &e.cursor, e.stat.id), (&n.name, &n.cursor, n.id));
    }
    let page = v.read_dir_ids(root, Some(&ids[1].cursor), 2).unwrap();
    assert_eq!(page, ids[2..4].to_vec());
}

/// Paging one entry at a time through a case-sensitive directory lists every name once, case
/// twins (one slot of the index) included, in the order of a whole listing (A5).
#[test]
fn paging_one_entry_at_a_time_lists_case_twins_once_a5() {
    let v = vol();
    let d = v.create_path(r"\cs", &NewFile::dir()).unwrap();
    v.set_case_sensitive(d, true).unwrap();
    for n in ["b", "A", "a", "B", "ä", "Ä", "c", "aa"] {
        v.create_path(&format!(r"\cs\{n}"), &NewFile::file())
            .unwrap();
    }
    let whole: Vec<String> = v
        .read_dir(d, None, 100)
        .unwrap()
        .into_iter()
        .map(|e| narrow(&e.name))
        .collect();
    assert_eq!(whole.len(), 8);
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        assert!(
            paged.len() <= whole.len(),
            "paging repeats names: {paged:?}"
        );
        let page = v.read_dir_ids(d, cursor.as_ref(), 1).unwrap();
        let Some(e) = page.into_iter().next() else {
            break;
        };
        paged.push(narrow(&e.name));
        cursor = Some(e.cursor);
    }
    assert_eq!(paged, whole);
}

/// `unlink_checked` shows the entry's file to the check under the unlink's own lock, returns
/// the check's refusal as it is (before the engine's own refusals), and the unlinked file.
#[test]
fn unlink_checked_shows_the_file_and_returns_it_a2() {
    #[derive(Debug, PartialEq)]
    enum E {
        Mine,
        Engine(Error),
    }
    impl From<Error> for E {
        fn from(e: Error) -> E {
            E::Engine(e)
        }
    }
    let v = vol();
    let root = v.root();
    let f = v.create_path(r"\f", &NewFile::file()).unwrap();
    let d = v.create_path(r"\d", &NewFile::dir()).unwrap();
    assert_eq!(
        v.unlink_checked(root, &nm("F"), UnlinkKind::Any, false, |st| {
            assert_eq!((st.id, st.kind), (f, FileKind::File));
            Err(E::Mine)
        }),
        Err(E::Mine)
    );
    assert_eq!(names(&v, r"\"), vec!["d", "f"], "refused: nothing unlinked");
    assert_eq!(
        v.unlink_checked(root, &nm("x"), UnlinkKind::Any, false, |_| Ok::<(), E>(())),
        Err(E::Engine(Error::ObjectNameNotFound))
    );
    assert_eq!(
        v.unlink_checked(root, &nm("d"), UnlinkKind::File, false, |_| Ok::<(), E>(())),
        Err(E::Engine(Error::FileIsADirectory))
    );
    assert_eq!(
        v.unlink_checked(root, &nm("F"), UnlinkKind::Any, false, |_| Ok::<(), E>(())),
        Ok(f)
    );
    assert_eq!(
        v.unlink_checked(
            root,
            &nm("D"),
            UnlinkKind::Directory,
            false,
            |_| Ok::<(), E>(())
        ),
        Ok(d)
    );
    assert!(names(&v, r"\").is_empty());
    v.check().unwrap();
}

/// `rename_report` says which file moved, which lost the target name, and whether both
/// names were one entry (A5, A6).
#[test]
fn rename_report_names_the_moved_and_the_replaced_file_a6() {
    let v = vol();
    let root = v.root();
    let a = v.create_path(r"\a", &NewFile::file()).unwrap();
    let b = v.create_path(r"\b", &NewFile::file()).unwrap();
    let replace = RenameFlags {
        replace_if_exists: true,
        ..Default::default()
    };
    let r = v
        .rename_report(root, &nm("a"), root, &nm("c"), replace)
        .unwrap();
    assert_eq!((r.file, r.replaced, r.same_entry), (a, None, false));
    let r = v
        .rename_report(root, &nm("c"), root, &nm("B"), replace)
        .unwrap();
    assert_eq!((r.file, r.replaced, r.same_entry), (a, Some(b), false));
    assert_eq!(names(&v, r"\"), vec!["B"]);
    // A case-only rename and a rename to the same spelling: one entry.
    let r = v
        .rename_report(root, &nm("b"), root, &nm("b"), replace)
        .unwrap();
    assert_eq!((r.file, r.replaced, r.same_entry), (a, None, true));
    assert_eq!(names(&v, r"\"), vec!["b"]);
    let r = v
        .rename_report(root, &nm("b"), root, &nm("b"), replace)
        .unwrap();
    assert!(r.same_entry);
    // One name of a file over another of its names: the file itself lost the target name.
    v.hard_link_path(r"\b", r"\d").unwrap();
    let r = v
        .rename_report(root, &nm("b"), root, &nm("d"), replace)
        .unwrap();
    assert_eq!((r.file, r.replaced, r.same_entry), (a, Some(a), false));
    assert_eq!(
        v.rename_report(root, &nm("x"), root, &nm("y"), replace),
        Err(Error::ObjectNameNotFound)
    );
    v.check().unwrap();
}

#[test]
fn rename_target_open_is_access_denied_unless_posix_a6() {
    let v = vol();
    v.create_path(r"\a", &NewFile::file()).unwrap();
    v.create_path(r"\b", &NewFile::file()).unwrap();
    let h = open_rw(&v, r"\b", Share::ALL).unwrap();
    let flags = RenameFlags {
        replace_if_exists: true,
        ..Default::default()
    };
    assert_eq!(v.rename_path(r"\a", r"\b", flags), Err(Error::AccessDenied));
    let posix = RenameFlags {
        posix_semantics: true,
        ..flags
    };
    v.rename_path(r"\a", r"\b", posix).unwrap();
    v.close(h).unwrap();
    v.check().unwrap();
}

#[test]
fn rename_posix_target_without_share_delete_is_sharing_violation_a6() {
    let v = vol();
    v.create_path(r"\a", &NewFile::file()).unwrap();
    v.create_path(r"\b", &NewFile::file()).unwrap();
    let h = open_rw(&v, r"\b", Share::READ_WRITE).unwrap();
    let flags = RenameFlags {
        replace_if_exists: true,
        posix_semantics: true,
        ..Default::default()
    };
    assert_eq!(
        v.rename_path(r"\a", r"\b", flags),
        Err(Error::SharingViolation)
    );
    v.close(h).unwrap();
}

#[test]
fn rename_source_open_without_share_delete_is_sharing_violation_a6() {
    let v = vol();
    v.create_path(r"\a", &NewFile::file()).unwrap();
    let h = open_rw(&v, r"\a", Share::NONE).unwrap();
    assert_eq!(
        v.rename_path(r"\a", r"\c", RenameFlags::default()),
        Err(Error::SharingViolation)
    );
    v.close(h).unwrap();
    let h = open_rw(&v, r"\a", Share::ALL).unwrap();
    v.rename_path(r"\a", r"\c", RenameFlags::default()).unwrap();
    v.close(h).unwrap();
}

#[test]
fn rename_directory_with_open_handle_beneath_is_access_denied_a6() {
    let v = vol();
    v.create_path(r"\d", &NewFile::dir()).unwrap();
    v.create_path(r"\d\f", &NewFile::file()).unwrap();
    let h = open_rw(&v, r"\d\f", Share::ALL).unwrap();
    assert_eq!(
        v.rename_path(r"\d", r"\e", RenameFlags::default()),
        Err(Error::AccessDenied)
    );
    v.close(h).unwrap();
    v.rename_path(r"\d", r"\e", RenameFlags::default()).unwrap();
}

#[test]
fn rename_read_only_target_refused_unless_ignored_a6() {
    let v = vol();
    v.create_path(r"\a", &NewFile::file()).unwrap();
    let b = v.create_path(r"\b", &NewFile::file()).unwrap();
    v.set_attributes(b, attrs::READONLY).unwrap();
    let flags = RenameFlags {
        replace_if_exists: true,
        ..Default::default()
    };
    assert_eq!(v.rename_path(r"\a", r"\b", flags), Err(Error::AccessDenied));
    let ign = RenameFlags {
        ignore_readonly: true,
        ..flags
    };
    v.rename_path(r"\a", r"\b", ign).unwrap();
}

// ---------------------------------------------------------------- reparse points (A3, A4)

fn junction_bytes(target: &str) -> Vec<u8> {
    reparse::junction_for_target(&w(target), 'C')
        .unwrap()
        .as_bytes()
        .to_vec()
}

#[test]
fn junction_needs_empty_directory_a3() {
    let v = vol();
    let f = v.create_path(r"\f", &NewFile::file()).unwrap();
    assert_eq!(
        v.set_reparse_point(f, &junction_bytes(r"C:\x")),
        Err(Error::NotADirectory)
    );
    let d = v.create_path(r"\d", &NewFile::dir()).unwrap();
    v.create_path(r"\d\child", &NewFile::file()).unwrap();
    assert_eq!(
        v.set_reparse_point(d, &junction_bytes(r"C:\x")),
        Err(Error::DirectoryNotEmpty)
    );
    let e = v.create_path(r"\e", &NewFile::dir()).unwrap();
    v.set_reparse_point(e, &junction_bytes(r"C:\x")).unwrap();
    let s = v.stat(e).unwrap();
    assert_eq!(
        s.attributes & 0x410,
        0x410,
        "REPARSE_POINT|DIRECTORY (Wine)"
    );
    assert_eq!(s.reparse_tag, Some(reparse::IO_REPARSE_TAG_MOUNT_POINT));
    v.check().unwrap();
}

#[test]
fn malformed_reparse_buffer_is_invalid_and_nothing_changes_a3() {
    let v = vol();
    let d = v.create_path(r"\d", &NewFile::dir()).unwrap();
    let mut b = junction_bytes(r"C:\x");
    b[4] ^= 2; // ReparseDataLength no longer matches
    assert_eq!(v.set_reparse_point(d, &b), Err(Error::ReparseDataInvalid));
    assert_eq!(
        v.set_reparse_point(d, &[1, 2, 3]),
        Err(Error::ReparseDataInvalid)
    );
    assert_eq!(
        v.set_reparse_point(d, &vec![0u8; 17000]),
        Err(Error::ReparseDataInvalid)
    );
    assert_eq!(v.stat(d).unwrap().reparse_tag, None);
}

#[test]
fn replacing_reparse_point_needs_same_tag_a3() {
    let v = vol();
    let d = v.create_path(r"\d", &NewFile::dir()).unwrap();
    v.set_reparse_point(d, &junction_bytes(r"C:\x")).unwrap();
    let sym = ReparseBuffer::symlink(&w(r"\??\C:\y"), &w(r"C:\y"), false).unwrap();
    assert_eq!(
        v.set_reparse_point(d, sym.as_bytes()),
        Err(Error::ReparseTagMismatch)
    );
    v.set_reparse_point(d, &junction_bytes(r"C:\z")).unwrap();
    assert_eq!(narrow(&v.read_link(d).unwrap().print_name), r"C:\z");
}

#[test]
fn get_and_delete_reparse_point_a3() {
    let v = vol();
    let f = v.create_path(r"\plain", &NewFile::file()).unwrap();
    assert_eq!(v.get_reparse_point(f), Err(Error::NotAReparsePoint));
    let d = v.create_path(r"\d", &NewFile::dir()).unwrap();
    let bytes = junction_bytes(r"C:\x");
    v.set_reparse_point(d, &bytes).unwrap();
    assert_eq!(v.get_reparse_point(d).unwrap(), bytes, "byte for byte");
    let before = v.stat(d).unwrap().times;
    let wrong = [0x0C, 0, 0, 0xA0, 0, 0, 0, 0];
    assert_eq!(
        v.delete_reparse_point(d, &wrong),
        Err(Error::ReparseTagMismatch)
    );
    let right = [0x03, 0, 0, 0xA0, 0, 0, 0, 0];
    v.delete_reparse_point(d, &right).unwrap();
    let s = v.stat(d).unwrap();
    assert_eq!(s.attributes & attrs::REPARSE_POINT, 0);
    assert_eq!(s.times, before, "delete leaves timestamps alone (Wine)");
    assert_eq!(
        v.delete_reparse_point(d, &right),
        Err(Error::NotAReparsePoint)
    );
}

/// WinBtrfs reparse.cpp: a symlink on a file holding data → STATUS_IO_REPARSE_DATA_INVALID;
/// on an empty file it is accepted, and data written afterwards is kept.
#[test]
fn symlink_refused_on_file_holding_data() {
    let v = vol();
    let f = v.write_file_path(r"\f", b"data").unwrap();
    let sym = ReparseBuffer::symlink(&w("x"), &w("x"), true).unwrap();
    assert_eq!(
        v.set_reparse_point(f, sym.as_bytes()),
        Err(Error::ReparseDataInvalid)
    );
    assert_eq!(Error::ReparseDataInvalid.ntstatus(), 0xC000_0278);
    assert_eq!(v.stat(f).unwrap().reparse_tag, None);
    let e = v.create_path(r"\e", &NewFile::file()).unwrap();
    v.set_reparse_point(e, sym.as_bytes()).unwrap();
    v.write(e, 0, b"kept").unwrap();
    let st = v.stat(e).unwrap();
    assert_eq!(st.reparse_tag, Some(reparse::IO_REPARSE_TAG_SYMLINK));
    assert_eq!(st.size, 4);
    let mut buf = [0u8; 4];
    assert_eq!(v.read(e, 0, &mut buf).unwrap(), 4);
    assert_eq!(&buf, b"kept");
    v.check().unwrap();
}

#[test]
fn non_microsoft_tag_guid_must_match_a3() {
    let v = vol();
    let f = v.create_path(r"\f", &NewFile::file()).unwrap();
    let a = ReparseBuffer::other(0x0000_1234, Some([1; 16]), b"abc").unwrap();
    let b = ReparseBuffer::other(0x0000_1234, Some([2; 16]), b"abc").unwrap();
    v.set_reparse_point(f, a.as_bytes()).unwrap();
    assert_eq!(
        v.set_reparse_point(f, b.as_bytes()),
        Err(Error::ReparseAttributeConflict)
    );
    // Unknown tag in a path → IoReparseTagNotHandled; FILE_OPEN_REPARSE_POINT opens it.
    assert_eq!(v.resolve(r"\f", true), Err(Error::IoReparseTagNotHandled));
    assert_eq!(v.resolve(r"\f", false).unwrap(), f);
}

#[test]
fn junction_is_followed_mid_path_a3() {
    let v = vol();
    v.create_path(r"\real", &NewFile::dir()).unwrap();
    v.write_file_path(r"\real\f.txt", b"hi").unwrap();
    v.create_junction(r"\j", r"C:\real").unwrap();
    assert_eq!(v.read_file_path(r"\J\F.TXT").unwrap(), b"hi");
    v.write_file_path(r"\j\new.txt", b"n").unwrap();
    assert_eq!(v.read_file_path(r"\real\new.txt").unwrap(), b"n");
    // FILE_OPEN_REPARSE_POINT on the last component only.
    let j = v.resolve(r"\j", false).unwrap();
    assert_eq!(
        v.stat(j).unwrap().reparse_tag,
        Some(reparse::IO_REPARSE_TAG_MOUNT_POINT)
    );
    assert_eq!(
        v.resolve(r"\j", true).unwrap(),
        v.resolve(r"\real", true).unwrap()
    );
}

#[test]
fn junction_layout_is_mklink_j_a3() {
    let v = vol();
    let j = v.create_junction(r"\j", r"C:\target").unwrap();
    let t = v.read_link(j).unwrap();
    assert_eq!(narrow(&t.substitute_name), r"\??\C:\target");
    assert_eq!(narrow(&t.print_name), r"C:\target");
}

#[test]
fn removing_junction_removes_link_never_target_a2_a3() {
    let v = vol();
    v.create_path(r"\real", &NewFile::dir()).unwrap();
    v.create_path(r"\real\f", &NewFile::file()).unwrap();
    v.create_junction(r"\j", r"C:\real").unwrap();
    assert_eq!(
        v.delete_path(r"\j", UnlinkKind::File),
        Err(Error::AccessDenied)
    );
    v.delete_path(r"\j", UnlinkKind::Directory).unwrap();
    assert!(v.resolve(r"\real\f", true).is_ok());
    v.check().unwrap();
}

#[test]
fn file_symlink_delete_file_ok_remove_directory_refused_a2() {
    let v = vol();
    v.create_path(r"\t", &NewFile::file()).unwrap();
    v.create_symlink(r"\s", "t", false).unwrap();
    assert_eq!(
        v.delete_path(r"\s", UnlinkKind::Directory),
        Err(Error::NotADirectory)
    );
    v.delete_path(r"\s", UnlinkKind::File).unwrap();
    assert!(v.resolve(r"\t", true).is_ok());
}

#[test]
fn recursive_delete_never_follows_links_out_of_tree_a2() {
    let v = vol();
    v.create_path(r"\keep", &NewFile::dir()).unwrap();
    v.write_file_path(r"\keep\precious", b"p").unwrap();
    v.create_path(r"\tree", &NewFile::dir()).unwrap();
    v.create_path(r"\tree\sub", &NewFile::dir()).unwrap();
    v.write_file_path(r"\tree\sub\f", b"x").unwrap();
    v.create_junction(r"\tree\j", r"C:\keep").unwrap();
    v.create_symlink(r"\tree\sub\s", r"..\..\keep", true)
        .unwrap();
    let ro = v.create_path(r"\tree\ro", &NewFile::file()).unwrap();
    v.set_attributes(ro, attrs::READONLY).unwrap();
    v.remove_tree(r"\tree").unwrap();
    assert_eq!(v.resolve(r"\tree", true), Err(Error::ObjectNameNotFound));
    assert_eq!(v.read_file_path(r"\keep\precious").unwrap(), b"p");
    v.check().unwrap();
}

#[test]
fn relative_symlink_resolves_against_link_parent_with_dotdot_a4() {
    let v = vol();
    v.create_path(r"\a", &NewFile::dir()).unwrap();
    v.create_path(r"\a\b", &NewFile::dir()).unwrap();
    v.write_file_path(r"\a\target.txt", b"T").unwrap();
    v.create_symlink(r"\a\b\up", r"..\target.txt", false)
        .unwrap();
    assert_eq!(v.read_file_path(r"\a\b\up").unwrap(), b"T");
    // The link's parent reached through a junction: `..` applies to the substituted path.
    v.create_junction(r"\jb", r"C:\a\b").unwrap();
    assert_eq!(v.read_file_path(r"\jb\up").unwrap(), b"T");
}

#[test]
fn absolute_symlink_on_own_drive_letter_a4() {
    let v = vol();
    v.create_path(r"\d", &NewFile::dir()).unwrap();
    v.write_file_path(r"\d\f", b"F").unwrap();
    v.create_symlink(r"\abs", r"C:\d\f", false).unwrap();
    v.create_symlink(r"\nt", r"\??\c:\d\f", false).unwrap();
    v.create_symlink(r"\rootrel", r"\d\f", false).unwrap();
    assert_eq!(v.read_file_path(r"\abs").unwrap(), b"F");
    assert_eq!(v.read_file_path(r"\nt").unwrap(), b"F");
    assert_eq!(v.read_file_path(r"\rootrel").unwrap(), b"F");
}

#[test]
fn other_drive_letters_are_mapped_or_not_on_this_volume_a4() {
    let mut opts = VolumeOptions::default();
    opts.drive_map.insert('d', "/host/d".into());
    let v = Volume::new(opts);
    v.create_symlink(r"\toD", r"D:\x\y", false).unwrap();
    v.create_symlink(r"\toE", r"E:\x", false).unwrap();
    v.create_symlink(r"\unc", r"\\server\share\x", false)
        .unwrap();
    match v.locate(r"\toD", true).unwrap() {
        Location::Mapped { letter, host, rest } => {
            assert_eq!((letter, host.as_str()), ('D', "/host/d"));
            assert_eq!(rest, vec![w("x"), w("y")]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(v.resolve(r"\toE", true), Err(Error::NotOnThisVolume));
    assert_eq!(v.resolve(r"\unc", true), Err(Error::NotOnThisVolume));
    let d = v.resolve(r"\toD", false).unwrap();
    assert_eq!(v.read_link_posix(d, "/mnt").unwrap(), "/host/d/x/y");
    let e = v.resolve(r"\toE", false).unwrap();
    assert_eq!(
        v.read_link_posix(e, "/mnt").unwrap(),
        format!("{UNMAPPED_PREFIX}/E:/x")
    );
}

#[test]
fn readlink_posix_forms_a4() {
    let v = vol();
    let rel = v.create_symlink(r"\rel", r"..\a\b", false).unwrap();
    let abs = v.create_symlink(r"\abs", r"C:\a\b", true).unwrap();
    let j = v.create_junction(r"\j", r"C:\a").unwrap();
    assert_eq!(v.read_link_posix(rel, "/mnt/x").unwrap(), "../a/b");
    assert_eq!(v.read_link_posix(abs, "/mnt/x").unwrap(), "/mnt/x/a/b");
    assert_eq!(v.read_link_posix(j, "/mnt/x/").unwrap(), "/mnt/x/a");
}

#[test]
fn dangling_links_distinguish_name_and_path_not_found_a4() {
    let v = vol();
    v.create_symlink(r"\d1", r"missing", false).unwrap();
    v.create_symlink(r"\d2", r"nodir\missing", false).unwrap();
    assert_eq!(v.resolve(r"\d1", true), Err(Error::ObjectNameNotFound));
    assert_eq!(v.resolve(r"\d2", true), Err(Error::ObjectPathNotFound));
    assert_eq!(v.create_junction(r"\j", r"C:\nowhere").map(|_| ()), Ok(()));
    assert_eq!(v.resolve(r"\j\x", true), Err(Error::ObjectPathNotFound));
    // Opening with create through a dangling file link creates the target.
    let Opened {
        handle: h, created, ..
    } = v
        .open_path(
            r"\d1",
            &OpenOptions {
                disposition: Disposition::OpenIf,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(created);
    v.close(h).unwrap();
    assert!(v.resolve(r"\missing", true).is_ok());
}

#[test]
fn symlink_loop_is_reparse_point_not_resolved_a4() {
    let v = vol();
    v.create_symlink(r"\loop", "loop", false).unwrap();
    assert_eq!(
        v.resolve(r"\loop", true),
        Err(Error::ReparsePointNotResolved)
    );
    v.create_symlink(r"\a", "b", true).unwrap();
    v.create_symlink(r"\b", "a", true).unwrap();
    assert_eq!(
        v.resolve(r"\a\x", true),
        Err(Error::ReparsePointNotResolved)
    );
    assert_eq!(Error::ReparsePointNotResolved.win32(), 1921);
}

#[test]
fn at_most_63_reparse_points_per_path_a4() {
    let v = vol();
    v.write_file_path(r"\l0", b"end").unwrap();
    for i in 1..=64 {
        v.create_symlink(&format!(r"\l{i}"), &format!("l{}", i - 1), false)
            .unwrap();
    }
    assert_eq!(v.read_file_path(r"\l63").unwrap(), b"end");
    assert_eq!(
        v.resolve(r"\l64", true),
        Err(Error::ReparsePointNotResolved)
    );
}

#[test]
fn windows11_symlink_kind_mismatch_fails_legacy_allows_a4() {
    let v = vol();
    v.create_path(r"\dir", &NewFile::dir()).unwrap();
    v.create_path(r"\file", &NewFile::file()).unwrap();
    v.create_symlink(r"\f2d", "dir", false).unwrap();
    v.create_symlink(r"\d2f", "file", true).unwrap();
    assert_eq!(v.resolve(r"\f2d", true), Err(Error::FileIsADirectory));
    assert_eq!(v.resolve(r"\d2f", true), Err(Error::NotADirectory));
    let old = Volume::new(VolumeOptions {
        symlink_kind_rule: SymlinkKindRule::Legacy,
        ..Default::default()
    });
    old.create_path(r"\dir", &NewFile::dir()).unwrap();
    old.create_symlink(r"\f2d", "dir", false).unwrap();
    assert!(old.resolve(r"\f2d", true).is_ok());
}

#[test]
fn file_in_middle_of_path_is_path_not_found() {
    let v = vol();
    v.create_path(r"\f", &NewFile::file()).unwrap();
    assert_eq!(v.resolve(r"\f\x", true), Err(Error::ObjectPathNotFound));
    assert_eq!(
        v.create_path(r"\f\x", &NewFile::file()),
        Err(Error::ObjectPathNotFound)
    );
}

#[test]
fn read_only_volume_refuses_changes() {
    let v = Volume::new(VolumeOptions {
        read_only: true,
        ..Default::default()
    });
    assert_eq!(
        v.create_path(r"\d", &NewFile::dir()),
        Err(Error::ReadOnlyVolume)
    );
    assert!(v.read_dir_path(r"\").unwrap().is_empty());
}

#[test]
fn volume_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Volume>();
}

#[test]
fn handle_without_data_access_does_not_take_part_in_sharing_r10() {
    let v = vol();
    v.create_path(r"\a", &NewFile::file()).unwrap();
    let Opened { handle: h, .. } = v
        .open_path(
            r"\a",
            &OpenOptions {
                access: Access::NONE,
                share: Share::NONE,
                ..Default::default()
            },
        )
        .unwrap();
    v.rename_path(r"\a", r"\b", RenameFlags::default()).unwrap();
    let h2 = open_rw(&v, r"\b", Share::NONE).unwrap();
    v.close(h2).unwrap();
    v.close(h).unwrap();
    v.check().unwrap();
}

#[test]
fn write_access_to_read_only_file_is_access_denied_ms_fsa_2_1_5_1_2() {
    let v = vol();
    let id = v.write_file_path(r"\ro", b"x").unwrap();
    v.set_attributes(id, attrs::READONLY).unwrap();
    assert_eq!(open_rw(&v, r"\ro", Share::ALL), Err(Error::AccessDenied));
    assert_eq!(
        v.open(id, Access::READ_WRITE, Share::ALL),
        Err(Error::AccessDenied)
    );
    assert_eq!(v.write_file_path(r"\ro", b"y"), Err(Error::AccessDenied));
    let h = v.open(id, Access::READ, Share::ALL).unwrap();
    v.close(h).unwrap();
    assert_eq!(v.read_file_path(r"\ro").unwrap(), b"x");
}

#[test]
fn dotdot_in_a_callers_path_is_lexical_before_links_are_followed_a5() {
    let v = vol();
    v.create_path(r"\real", &NewFile::dir()).unwrap();
    v.create_path(r"\real\sub", &NewFile::dir()).unwrap();
    v.create_path(r"\other", &NewFile::dir()).unwrap();
    v.write_file_path(r"\x", b"root x").unwrap();
    v.write_file_path(r"\real\x", b"real x").unwrap();
    v.create_junction(r"\other\j", r"C:\real\sub").unwrap();
    // Win32 normalizes `\other\j\..\..\x` to `\x` before NTFS sees it.
    assert_eq!(v.read_file_path(r"\other\j\..\..\x").unwrap(), b"root x");
    assert_eq!(
        v.read_file_path(r"C:\other\.\j\..\..\x").unwrap(),
        b"root x"
    );
    // `\\?\` paths skip normalization: `..` is an invalid name.
    assert_eq!(
        v.resolve(r"\\?\C:\other\..\x", true),
        Err(Error::ObjectNameInvalid)
    );
    // `..` inside a symlink target is applied after substitution (MS-FSCC 2.1.2.4).
    v.create_symlink(r"\other\up", r"j\..\x", false).unwrap();
    assert_eq!(v.read_file_path(r"\other\up").unwrap(), b"real x");
}

/// Handles follow a rename, and names keep every WTF-16 unit.
pub(in crate::volume) mod handle_names {
    use super::*;
    use crate::wtf16::wide;

    /// Opens `path` for reading, with DELETE access when `delete` (also used by the
    /// delete-at-cleanup tests).
    pub(in crate::volume) fn open(v: &Volume, path: &str, delete: bool) -> HandleId {
        v.open_path(
            path,
            &OpenOptions {
                access: Access {
                    read: true,
                    write: false,
                    delete,
                },
                ..OpenOptions::default()
            },
        )
        .unwrap()
        .handle
    }

    /// WinFsp renames the file node shared by every handle of the old name; a later delete
    /// through one of those handles removes the new name.
    #[test]
    fn rename_moves_handles_to_the_new_name() {
        let v = Volume::new(VolumeOptions::default());
        v.create_path(r"\d", &NewFile::dir()).unwrap();
        v.create_path(r"\d\old", &NewFile::file()).unwrap();
        let h = open(&v, r"\d\OLD", true);
        let d = v.resolve(r"\d", false).unwrap();
        let root = v.root();
        v.rename(d, &nm("old"), root, &nm("New"), RenameFlags::default())
            .unwrap();
        let link = v.handle_link(h).unwrap().unwrap();
        assert_eq!((link.parent, link.name), (root, wide("New")));
        assert!(v.delete_at_cleanup(h).unwrap());
        assert_eq!(v.resolve(r"\new", false), Err(Error::ObjectNameNotFound));
        v.check().unwrap();
    }

    /// A1: linking a symlink links the symlink itself; a missing parent of the new name is
    /// STATUS_OBJECT_PATH_NOT_FOUND; a directory cannot be linked.
    #[test]
    fn hard_link_path_in_wtf16_links_the_symlink_itself_and_checks_like_createhardlinkw() {
        let v = Volume::new(VolumeOptions::default());
        v.create_path(r"\t", &NewFile::file()).unwrap();
        let s = v.create_symlink(r"\s", r"C:\t", false).unwrap();
        assert_eq!(v.hard_link_path(&wide(r"\s"), &wide(r"\s2")).unwrap(), s);
        assert_eq!(v.stat(s).unwrap().links, 2);
        assert_eq!(
            v.hard_link_path(&wide(r"\t"), &wide(r"\no\x")),
            Err(Error::ObjectPathNotFound)
        );
        v.create_path(r"\d", &NewFile::dir()).unwrap();
        assert_eq!(
            v.hard_link_path(&wide(r"\d"), &wide(r"\d2")),
            Err(Error::FileIsADirectory)
        );
        v.check().unwrap();
    }

    /// A1: FindFirstFileNameW paths, leading backslash, no drive; WTF-16 survives.
    #[test]
    fn link_paths_lists_every_name_in_wtf16() {
        let v = Volume::new(VolumeOptions::default());
        v.create_path(r"\d", &NewFile::dir()).unwrap();
        let id = v.create_path(r"\d\a", &NewFile::file()).unwrap();
        let root = v.root();
        let lone = vec![0xD800u16, b'x' as u16];
        v.hard_link(id, root, &Name::new(&lone).unwrap()).unwrap();
        let paths = v.link_paths(id).unwrap();
        assert_eq!(paths.len(), 2);
        assert_eq!(paths[0].to_string_lossy(), r"\d\a");
        assert_eq!(paths[0], r"\d\a");
        assert_ne!(paths[1], r"\x");
        let mut want = vec![b'\\' as u16];
        want.extend_from_slice(&lone);
        assert_eq!(
            paths[1],
            LinkPath {
                path: want,
                delete_pending: false
            }
        );
    }
}
