//! Regression tests for engine bugs found by the model test (`tests/model.rs`), the stress test
//! and the fuzzers; each names the rule it protects.

use vfs_core::*;

fn nm(s: &str) -> Name {
    Name::from_str_checked(s).unwrap()
}

fn vol() -> Volume {
    Volume::new(VolumeOptions::default())
}

fn open_for_delete(v: &Volume, path: &str) -> HandleId {
    v.open_path(
        path,
        &OpenOptions {
            access: Access {
                read: true,
                write: false,
                delete: true,
            },
            ..OpenOptions::default()
        },
    )
    .unwrap()
    .handle
}

const DELETE: DispositionFlags = DispositionFlags {
    delete: true,
    posix_semantics: false,
    ignore_readonly: false,
};
const POSIX_DELETE: DispositionFlags = DispositionFlags {
    delete: true,
    posix_semantics: true,
    ignore_readonly: false,
};

/// A handle whose name was removed by a POSIX delete, then reused by a new file, must not mark
/// the new file delete-pending (it used to, and the new file then stayed pending for ever with
/// no handle: every open failed with DeletePending). MS-FSA 2.1.5.15.3 marks Open.Link, the
/// handle's own link, which is gone.
#[test]
fn disposition_on_handle_whose_name_was_reused_is_file_deleted_a2() {
    let v = vol();
    v.create_path(r"\f", &NewFile::file()).unwrap();
    let h = open_for_delete(&v, r"\f");
    v.delete_path(r"\f", UnlinkKind::File).unwrap();
    let new = v.create_path(r"\f", &NewFile::file()).unwrap();
    assert_eq!(v.set_disposition(h, DELETE), Err(Error::FileDeleted));
    v.close(h).unwrap();
    let st = v.stat(new).unwrap();
    assert!(!st.delete_pending);
    assert_eq!(st.links, 1);
    v.check().unwrap();
    // Cancelling through such a handle leaves the new file's pending delete alone too.
    let legacy = Volume::new(VolumeOptions {
        delete_semantics: DeleteSemantics::Legacy,
        ..VolumeOptions::default()
    });
    legacy.create_path(r"\f", &NewFile::file()).unwrap();
    let stale = open_for_delete(&legacy, r"\f");
    let other = open_for_delete(&legacy, r"\f");
    legacy.set_disposition(stale, POSIX_DELETE).unwrap();
    legacy.close(stale).unwrap();
    assert_eq!(legacy.resolve(r"\f", true), Err(Error::ObjectNameNotFound));
    let new = legacy.create_path(r"\f", &NewFile::file()).unwrap();
    let h2 = open_for_delete(&legacy, r"\f");
    legacy.delete_path(r"\f", UnlinkKind::File).unwrap();
    legacy
        .set_disposition(other, DispositionFlags::default())
        .unwrap();
    assert!(legacy.stat(new).unwrap().delete_pending);
    legacy.close(h2).unwrap();
    assert_eq!(legacy.stat(new), Err(Error::StaleFileId));
    legacy.close(other).unwrap();
    legacy.check().unwrap();
}

/// Nothing can be created, linked or moved into a directory whose name is delete-pending (A2:
/// "while pending, any new open → STATUS_DELETE_PENDING", and adding a name opens the
/// directory). The engine used to allow it, and the directory then lost its name at close
/// while still holding children (check(): "back link to ... which is not a directory").
#[test]
fn nothing_enters_a_delete_pending_directory_a2() {
    let v = vol();
    v.create_path(r"\d", &NewFile::dir()).unwrap();
    let f = v.create_path(r"\f", &NewFile::file()).unwrap();
    let h = open_for_delete(&v, r"\d");
    v.set_disposition(h, POSIX_DELETE).unwrap();
    assert_eq!(
        v.create_path(r"\d\x", &NewFile::file()),
        Err(Error::DeletePending)
    );
    assert_eq!(
        v.create_path(r"\D\y", &NewFile::dir()),
        Err(Error::DeletePending)
    );
    assert_eq!(v.hard_link_path(r"\f", r"\d\f"), Err(Error::DeletePending));
    assert_eq!(
        v.rename_path(r"\f", r"\d\f", RenameFlags::default()),
        Err(Error::DeletePending)
    );
    let d = v.handle_file(h).unwrap();
    assert_eq!(
        v.create(d, &nm("x"), &NewFile::file()),
        Err(Error::DeletePending)
    );
    assert_eq!(v.hard_link(f, d, &nm("x")), Err(Error::DeletePending));
    assert_eq!(
        v.rename(v.root(), &nm("f"), d, &nm("x"), RenameFlags::default()),
        Err(Error::DeletePending)
    );
    v.check().unwrap();
    v.close(h).unwrap();
    assert_eq!(v.resolve(r"\d", true), Err(Error::ObjectNameNotFound));
    v.check().unwrap();
}

/// FSCTL_SET_REPARSE_POINT: "A reparse point cannot be set on a non-empty directory"
/// (STATUS_DIRECTORY_NOT_EMPTY), whatever the tag. A third-party tag used to be accepted, which
/// left children below a reparse point (check(): "reparse-point directory is not empty").
#[test]
fn no_reparse_point_of_any_tag_on_a_non_empty_directory_a3() {
    let v = vol();
    let d = v.create_path(r"\d", &NewFile::dir()).unwrap();
    v.create_path(r"\d\child", &NewFile::file()).unwrap();
    for rp in [
        reparse::ReparseBuffer::other(0x0000_1234, Some([1; 16]), b"x").unwrap(),
        reparse::ReparseBuffer::other(0x8000_0017, None, b"wof").unwrap(),
    ] {
        assert_eq!(
            v.set_reparse_point(d, rp.as_bytes()),
            Err(Error::DirectoryNotEmpty)
        );
    }
    assert_eq!(v.stat(d).unwrap().reparse_tag, None);
    v.check().unwrap();
}

/// A4 (Windows 11): a file symlink that reaches a directory fails to open, also when its
/// target is `.` or `..` or a drive root, which the resolver reaches without a final name.
#[test]
fn windows11_kind_rule_applies_to_targets_ending_in_dots_a4() {
    let v = vol();
    v.create_path(r"\d", &NewFile::dir()).unwrap();
    v.create_symlink(r"\d\up", "..", false).unwrap();
    v.create_symlink(r"\d\here", ".", false).unwrap();
    v.create_symlink(r"\d\root", r"C:\", false).unwrap();
    v.create_symlink(r"\d\uplink", "..", true).unwrap();
    for p in [r"\d\up", r"\d\here", r"\d\root"] {
        assert_eq!(v.resolve(p, true), Err(Error::FileIsADirectory), "{p}");
    }
    assert_eq!(v.resolve(r"\d\uplink", true).unwrap(), v.root());
    // In the middle of a path the link is only traversed.
    v.create_path(r"\f", &NewFile::file()).unwrap();
    assert!(v.resolve(r"\d\up\f", true).is_ok());
    let old = Volume::new(VolumeOptions {
        symlink_kind_rule: SymlinkKindRule::Legacy,
        ..VolumeOptions::default()
    });
    old.create_path(r"\d", &NewFile::dir()).unwrap();
    old.create_symlink(r"\d\up", "..", false).unwrap();
    assert_eq!(old.resolve(r"\d\up", true).unwrap(), old.root());
}

/// A4: the directory part of a path is traversed, so a file symlink to a directory works as a
/// parent for create, link and rename exactly as it does for open_path. create_path used to
/// apply the Windows 11 final-component rule to the parent (FileIsADirectory) while open_path
/// of the same path created the file.
#[test]
fn create_link_rename_through_file_symlink_to_directory_agree_with_open_a4() {
    let v = vol();
    v.create_path(r"\dir", &NewFile::dir()).unwrap();
    v.create_symlink(r"\s", "dir", false).unwrap();
    v.create_path(r"\s\x", &NewFile::file()).unwrap();
    let Opened {
        handle: h, created, ..
    } = v
        .open_path(
            r"\s\y",
            &OpenOptions {
                disposition: Disposition::Create,
                ..OpenOptions::default()
            },
        )
        .unwrap();
    assert!(created);
    v.close(h).unwrap();
    v.hard_link_path(r"\dir\x", r"\s\x2").unwrap();
    v.rename_path(r"\dir\y", r"\s\y2", RenameFlags::default())
        .unwrap();
    let names: Vec<String> = v
        .read_dir_path(r"\dir")
        .unwrap()
        .into_iter()
        .map(|e| name::narrow(&e.name))
        .collect();
    assert_eq!(names, ["x", "x2", "y2"]);
    // A directory symlink to a file is a file in the middle of the path: path not found.
    v.create_path(r"\file", &NewFile::file()).unwrap();
    v.create_symlink(r"\ds", "file", true).unwrap();
    assert_eq!(
        v.create_path(r"\ds\z", &NewFile::file()),
        Err(Error::ObjectPathNotFound)
    );
    v.check().unwrap();
}

/// MS-FSA 2.1.5.15.12: a rename changes the link that handles were opened through, and they
/// follow it: delete-on-close and a later disposition act on the new name. The handle used to
/// keep the old name, so delete-on-close silently did nothing after a rename.
#[test]
fn handles_follow_their_name_through_a_rename_a2_a6() {
    let v = vol();
    v.create_path(r"\d", &NewFile::dir()).unwrap();
    let Opened { handle: h, .. } = v
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
    v.rename_path(r"\tmp", r"\d\Moved", RenameFlags::default())
        .unwrap();
    v.close(h).unwrap();
    assert_eq!(v.resolve(r"\d\moved", true), Err(Error::ObjectNameNotFound));
    assert_eq!(v.file_count(), 2);

    let id = v.create_path(r"\a", &NewFile::file()).unwrap();
    let h = open_for_delete(&v, r"\a");
    v.rename_path(r"\a", r"\A", RenameFlags::default()).unwrap();
    v.set_disposition(h, POSIX_DELETE).unwrap();
    v.close(h).unwrap();
    assert_eq!(v.stat(id), Err(Error::StaleFileId));
    v.check().unwrap();
}
