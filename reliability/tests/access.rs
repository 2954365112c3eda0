//! Issue item 7: by default only the mounting user reaches the drive (no `allow_other`).
//! Issue 17 item 1: on such a mount the daemon enforces the permission bits (no
//! `default_permissions`), also against the mounting user when that is not root; with
//! `--allow-other` the kernel does (`default_permissions`). Another user is played by
//! `setpriv` (util-linux) as nobody (65534).
//!
//! Issue 14: on an `--allow-other` drive, what the kernel does not check is checked by the
//! daemon — `system.ntfs_*` changes (owner or CAP_FOWNER only), the control attributes
//! (mounting user or root only) — and nothing a second user writes into link targets or
//! xattr names leads off the drive or corrupts another attribute.

mod common;

use common::{mount, need, TestMount};
use reliability::mounts::ntlinkfs_bin;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const NOBODY: &str = "65534";

/// Runs a command as nobody; (success, stderr).
fn as_nobody(args: &[&str]) -> (bool, String) {
    let (ok, _, err) = as_nobody_os(&args.iter().map(OsString::from).collect::<Vec<_>>());
    (ok, err)
}

/// Runs a command (any bytes in its arguments) as nobody, with no capabilities and no
/// supplementary groups; (success, stdout, stderr).
fn as_nobody_os(args: &[OsString]) -> (bool, String, String) {
    need("setpriv", "util-linux");
    let out = Command::new("setpriv")
        .args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", "--"])
        .args(args)
        .output()
        .expect("run setpriv");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `as_nobody` for a command that must fail with `errno_text` in its message.
#[track_caller]
fn nobody_fails(args: &[&OsStr], errno_text: &str) {
    let args: Vec<OsString> = args.iter().map(|a| a.to_os_string()).collect();
    let (ok, _, err) = as_nobody_os(&args);
    assert!(
        !ok && err.contains(errno_text),
        "{args:?} as nobody: expected \"{errno_text}\", got ok={ok}: {err}"
    );
}

/// `as_nobody` for a command that must succeed; its stdout.
#[track_caller]
fn nobody_ok(args: &[&OsStr]) -> String {
    let args: Vec<OsString> = args.iter().map(|a| a.to_os_string()).collect();
    let (ok, out, err) = as_nobody_os(&args);
    assert!(ok, "{args:?} as nobody failed: {err}");
    out
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// A drive shared with `--allow-other` whose root everyone may write (the setting in which
/// the issue's attacks worked), with root's file `rootfile`, root's empty directory `rootdir`
/// and root's junction `rootj`, and nobody's own directory `nb`.
fn shared_drive() -> TestMount {
    need("setfattr", "attr");
    let m = mount(&["--allow-other"]);
    std::fs::set_permissions(&m.dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::write(m.dir.join("rootfile"), b"root's").unwrap();
    std::fs::create_dir(m.dir.join("rootdir")).unwrap();
    std::fs::create_dir(m.dir.join("rootj")).unwrap();
    reliability::sys::lsetxattr(
        &m.dir.join("rootj"),
        "system.ntfs_reparse_data",
        &junction(r"C:\rootdir"),
    )
    .unwrap();
    nobody_ok(&[os("mkdir"), m.dir.join("nb").as_os_str()]);
    m
}

/// A junction buffer for `target` as `mklink /J` writes it.
fn junction(target: &str) -> Vec<u8> {
    let t: Vec<u16> = target.encode_utf16().collect();
    vfs_core::reparse::junction_for_target(&t, 'C')
        .unwrap()
        .into_bytes()
}

/// A junction buffer with the substitute name taken verbatim (a hostile writer's).
fn raw_junction(substitute: &str) -> Vec<u8> {
    let t: Vec<u16> = substitute.encode_utf16().collect();
    vfs_core::reparse::ReparseBuffer::mount_point(&t, &t)
        .unwrap()
        .into_bytes()
}

/// `0x…` as setfattr takes binary values.
fn hex(b: &[u8]) -> String {
    let mut s = String::from("0x");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// The mount's options and its file system's options, as mountinfo lists them.
fn mount_options(dir: &Path) -> String {
    let m = host::mountinfo::at(dir)
        .pop()
        .unwrap_or_else(|| panic!("{} not in mountinfo", dir.display()));
    format!("{} {}", m.options, m.super_options)
}

#[test]
fn another_user_is_refused_on_a_default_mount() {
    let m = mount(&[]);
    std::fs::write(m.dir.join("open.txt"), b"readable by all").unwrap();
    std::fs::set_permissions(
        m.dir.join("open.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::set_permissions(&m.dir, std::fs::Permissions::from_mode(0o755)).unwrap();

    let line = mount_options(&m.dir);
    // The daemon checks (issue 17 item 1); the kernel still refuses every other user.
    assert!(!line.contains("default_permissions"), "{line}");
    assert!(!line.contains("allow_other"), "{line}");

    // Control: nobody reaches the directory that holds the mount point.
    let (ok, err) = as_nobody(&["stat", m.tmp.path().to_str().unwrap()]);
    assert!(ok, "nobody cannot even reach the parent: {err}");

    for args in [
        vec!["stat", m.dir.to_str().unwrap()],
        vec!["ls", m.dir.to_str().unwrap()],
        vec!["cat", m.dir.join("open.txt").to_str().unwrap()],
    ] {
        let (ok, err) = as_nobody(&args);
        assert!(!ok, "{args:?} as nobody succeeded on a default mount");
        assert!(err.contains("Permission denied"), "{args:?}: {err}");
    }
    // The mounting user still works.
    assert_eq!(
        std::fs::read(m.dir.join("open.txt")).unwrap(),
        b"readable by all"
    );
}

/// A default mount made by nobody (through the setuid fusermount3): the daemon checks
/// nobody's own requests. A chmod that takes search permission from a directory whose names
/// the kernel cached refuses the next walk at once; write permission, open and access(2)
/// hold too; root, not the mounting user, is refused by the kernel.
#[test]
fn the_daemon_checks_the_mounting_user_on_a_default_mount() {
    need("fusermount3", "fuse3");
    let dev = std::fs::metadata("/dev/fuse").expect("/dev/fuse (install fuse3)");
    assert_eq!(
        std::os::unix::fs::MetadataExt::mode(&dev) & 0o666,
        0o666,
        "a user other than root opens /dev/fuse before fusermount3 mounts: chmod 666 \
         /dev/fuse, as distributions ship it (scripts/install-deps.sh does)"
    );
    let tmp = common::open_tempdir();
    let dir = tmp.path().join("mnt");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    let bin = ntlinkfs_bin().expect("the ntlinkfs binary");
    let mut daemon = Command::new("setpriv")
        .args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", "--"])
        .arg(&bin)
        .arg("mount")
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start ntlinkfs mount as nobody");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(daemon.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    let unmount = |daemon: &mut std::process::Child| {
        let _ = as_nobody(&["fusermount3", "-u", dir.to_str().unwrap()]);
        let _ = daemon.wait();
    };
    if ready.is_empty() {
        let _ = daemon.kill();
        let out = daemon.wait_with_output().unwrap();
        panic!(
            "ntlinkfs mount as nobody failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let result = std::panic::catch_unwind(|| {
        // Root is not the mounting user: the kernel refuses it (no allow_other).
        let e = std::fs::metadata(dir.join("x")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EACCES), "{e}");
        let d = dir.join("d");
        let f = d.join("f");
        let (d, f) = (d.as_os_str(), f.as_os_str());
        nobody_ok(&[os("mkdir"), d]);
        nobody_ok(&[
            os("sh"),
            os("-c"),
            os(&format!("echo mine > {}", f.to_str().unwrap())),
        ]);
        // Every check in one process, so the kernel's cached names are what is walked.
        let script = format!(
            "set -e; d={d}; f={f}; stat $f >/dev/null; \
             chmod 600 $d; if stat $f 2>/dev/null; then echo cached-walk-allowed; exit 1; fi; \
             if cat $f 2>/dev/null; then echo read-through-unsearchable; exit 1; fi; \
             chmod 700 $d; cat $f; chmod 444 $f; \
             if /usr/bin/test -w $f; then echo access-says-writable; exit 1; fi; \
             if sh -c \"echo > $f\" 2>/dev/null; then echo opened-for-write; exit 1; fi; \
             chmod 500 $d; if touch $d/new 2>/dev/null; then echo created; exit 1; fi; \
             if rm -f $f 2>/dev/null; then echo removed; exit 1; fi; chmod 700 $d; rm -f $f",
            d = d.to_str().unwrap(),
            f = f.to_str().unwrap()
        );
        let out = nobody_ok(&[os("sh"), os("-c"), os(&script)]);
        assert_eq!(out, "mine\n");
        let line = mount_options(&dir);
        assert!(
            !line.contains("default_permissions") && line.contains("user_id=65534"),
            "{line}"
        );
    });
    unmount(&mut daemon);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

#[test]
fn with_allow_other_the_kernel_enforces_permission_bits() {
    let m = mount(&["--allow-other"]);
    let line = mount_options(&m.dir);
    assert!(
        line.contains("allow_other") && line.contains("default_permissions"),
        "{line}"
    );
    std::fs::set_permissions(&m.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let open = m.dir.join("open.txt");
    let secret = m.dir.join("secret.txt");
    std::fs::write(&open, b"for all").unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&secret, b"root only").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();

    let (ok, err) = as_nobody(&["cat", open.to_str().unwrap()]);
    assert!(ok, "nobody cannot read a 0644 file with allow_other: {err}");
    let (ok, err) = as_nobody(&["cat", secret.to_str().unwrap()]);
    assert!(!ok && err.contains("Permission denied"), "0600 file: {err}");
    let (ok, err) = as_nobody(&["touch", m.dir.join("new").to_str().unwrap()]);
    assert!(
        !ok && err.contains("Permission denied"),
        "create in a 0755 root dir: {err}"
    );
    let (ok, err) = as_nobody(&["rm", "-f", open.to_str().unwrap()]);
    assert!(
        !ok && err.contains("Permission denied"),
        "unlink in a 0755 root dir: {err}"
    );
    assert!(open.exists());
}

/// Issue 14 item 1: another user can read the `system.ntfs_*` attributes of root's files but
/// change none of them (EPERM, as ntfs-3g with `-o permissions`); on a file of their own they
/// may. Root's file is still deletable afterwards (no READONLY slipped in).
#[test]
fn a_second_user_cannot_change_ntfs_metadata_of_anothers_file() {
    let m = shared_drive();
    let f = m.dir.join("rootfile");
    for (name, value) in [
        ("system.ntfs_attrib_be", "0x00000001"),
        ("system.ntfs_attrib", "0x01000000"),
        ("system.ntfs_times", "0x0000000000000000"),
        ("system.ntfs_times_be", "0x0000000000000000"),
        ("system.ntfs_crtime", "0x0000000000000000"),
        ("system.ntfs_crtime_be", "0x0000000000000000"),
    ] {
        nobody_fails(
            &[
                os("setfattr"),
                os("-n"),
                os(name),
                os("-v"),
                os(value),
                f.as_os_str(),
            ],
            "Operation not permitted",
        );
        nobody_ok(&[os("getfattr"), os("-n"), os(name), f.as_os_str()]);
    }
    let j = hex(&junction(r"C:\rootfile"));
    nobody_fails(
        &[
            os("setfattr"),
            os("-n"),
            os("system.ntfs_reparse_data"),
            os("-v"),
            os(&j),
            m.dir.join("rootdir").as_os_str(),
        ],
        "Operation not permitted",
    );
    nobody_fails(
        &[
            os("setfattr"),
            os("-x"),
            os("system.ntfs_reparse_data"),
            m.dir.join("rootj").as_os_str(),
        ],
        "Operation not permitted",
    );
    assert!(std::fs::metadata(m.dir.join("rootdir")).unwrap().is_dir());
    assert!(std::fs::symlink_metadata(m.dir.join("rootj"))
        .unwrap()
        .file_type()
        .is_symlink());
    // Capabilities in a user namespace of one's own (`unshare -Ur`: uid 0 and every
    // capability inside it) are no capabilities here.
    need("unshare", "util-linux");
    nobody_fails(
        &[
            os("unshare"),
            os("-Ur"),
            os("setfattr"),
            os("-n"),
            os("system.ntfs_attrib_be"),
            os("-v"),
            os("0x00000001"),
            f.as_os_str(),
        ],
        "Operation not permitted",
    );
    // Nobody's own file: allowed.
    let own = m.dir.join("nb/own");
    nobody_ok(&[os("touch"), own.as_os_str()]);
    nobody_ok(&[
        os("setfattr"),
        os("-n"),
        os("system.ntfs_attrib_be"),
        os("-v"),
        os("0x00000001"),
        own.as_os_str(),
    ]);
    // Root's file kept its times and stays deletable.
    let meta = std::fs::metadata(&f).unwrap();
    assert!(meta.modified().unwrap() > std::time::UNIX_EPOCH);
    std::fs::remove_file(&f).expect("root's rm still works");
}

/// Issue 14 item 2: the control attributes answer only the mounting user or root: another
/// user cannot save the drive to a host path (the issue wrote /root/...), run the check,
/// re-case names, or unmount the drive with `ntlinkfs unmount`.
#[test]
fn a_second_user_cannot_use_the_control_attributes() {
    let m = shared_drive();
    let evil = m.tmp.path().join("by-nobody.img");
    for (name, value) in [
        ("user.ntlinkfs.save", evil.to_str().unwrap()),
        ("user.ntlinkfs.recase", "ROOTFILE"),
    ] {
        nobody_fails(
            &[
                os("setfattr"),
                os("-n"),
                os(name),
                os("-v"),
                os(value),
                m.dir.as_os_str(),
            ],
            "Operation not permitted",
        );
    }
    for name in ["check", "names", "fileid", "handles", "pid", "image"] {
        nobody_fails(
            &[
                os("getfattr"),
                os("-n"),
                os(&format!("user.ntlinkfs.{name}")),
                m.dir.join("nb").as_os_str(),
            ],
            "Operation not permitted",
        );
    }
    assert!(!evil.exists(), "nobody made the daemon write an image");
    let bin = ntlinkfs_bin().unwrap();
    nobody_fails(
        &[
            bin.as_os_str(),
            os("save"),
            m.dir.as_os_str(),
            evil.as_os_str(),
        ],
        "Operation not permitted",
    );
    nobody_fails(
        &[bin.as_os_str(), os("unmount"), m.dir.as_os_str()],
        "only the user who mounted the drive, or root",
    );
    assert!(!evil.exists());
    assert!(host::mountinfo::is_mountpoint(&m.dir), "still mounted");
    // The mounting user (root here) still may.
    assert_eq!(reliability::control::check(&m.dir).unwrap(), "ok");
}

/// Issue 14 items 3-6 as a second user, on their own files: a junction with `..` cannot
/// reach the host's /etc, `ln -s MOUNT/../x` names the host's `x`, an oversized target is
/// ENAMETOOLONG, and a non-UTF-8 xattr name is EILSEQ.
#[test]
fn a_second_users_hostile_targets_and_names_stay_on_the_drive() {
    let m = shared_drive();
    let nb = m.dir.join("nb");
    // Item 3: absolute, root-relative and mapped-style `..` chains.
    let j = nb.join("j");
    nobody_ok(&[os("mkdir"), j.as_os_str()]);
    nobody_ok(&[
        os("setfattr"),
        os("-n"),
        os("system.ntfs_reparse_data"),
        os("-v"),
        os(&hex(&raw_junction(r"\??\C:\..\..\..\..\etc"))),
        j.as_os_str(),
    ]);
    let shown = nobody_ok(&[os("readlink"), j.as_os_str()]);
    assert_eq!(shown.trim_end(), m.dir.join("etc").to_str().unwrap());
    nobody_fails(
        &[os("cat"), j.join("passwd").as_os_str()],
        "No such file or directory",
    );
    // Item 4: the link names the place its text names, the host's `x` beside the mount
    // point (a link on the host root's letter since issue 13; EPERM with --no-host-links,
    // see cli/tests/mount_cli.rs), never the drive's `x`.
    let text = format!("{}/../x", m.dir.display());
    nobody_ok(&[os("ln"), os("-s"), os(&text), nb.join("t").as_os_str()]);
    let shown = nobody_ok(&[os("readlink"), nb.join("t").as_os_str()]);
    let beside = m.dir.canonicalize().unwrap().parent().unwrap().join("x");
    assert_eq!(shown.trim_end(), beside.to_str().unwrap());
    // Item 5.
    let long = nb.join("long");
    nobody_ok(&[os("mkdir"), long.as_os_str()]);
    nobody_ok(&[
        os("setfattr"),
        os("-n"),
        os("system.ntfs_reparse_data"),
        os("-v"),
        os(&hex(&raw_junction(&format!(
            r"\??\C:\{}",
            "é".repeat(2100)
        )))),
        long.as_os_str(),
    ]);
    nobody_fails(
        &[os("readlink"), os("-v"), long.as_os_str()],
        "File name too long",
    );
    nobody_fails(
        &[os("stat"), os("-L"), long.as_os_str()],
        "File name too long",
    );
    // Item 6.
    let own = nb.join("own");
    nobody_ok(&[os("touch"), own.as_os_str()]);
    for name in [&b"user.\xff\xfe"[..], b"user.\xfe\xff"] {
        nobody_fails(
            &[
                os("setfattr"),
                os("-n"),
                OsStr::from_bytes(name),
                os("-v"),
                os("1"),
                own.as_os_str(),
            ],
            "Invalid or incomplete multibyte or wide character",
        );
    }
    assert_eq!(reliability::control::check(&m.dir).unwrap(), "ok");
}

/// FILE_ATTRIBUTE_DIRECTORY of a link on the drive (system.ntfs_attrib, read by root).
fn is_directory_link(p: &Path) -> bool {
    let a = reliability::sys::lgetxattr(p, "system.ntfs_attrib")
        .unwrap_or_else(|e| panic!("{}: system.ntfs_attrib: errno {e}", p.display()));
    u32::from_le_bytes(a[..4].try_into().unwrap()) & 0x10 != 0
}

/// Issue 13 item 1: the kind of a link to a host path (directory link or file link) is decided
/// by looking at the target with the caller's rights only. A second user linking into a 0700
/// directory of root's gets the same link whether the name there exists (as a directory) or
/// not; a directory they may see gives a directory link; root, looking with root's rights,
/// gets the directory link. Inside the drive, whose engine does not check permission bits,
/// another user's link is decided without looking (file link unless the text ends in `/`).
#[test]
fn a_second_user_cannot_learn_what_a_private_host_directory_holds() {
    let m = shared_drive();
    let host = m.tmp.path().join("host");
    let secret = host.join("secret");
    std::fs::create_dir_all(secret.join("exists")).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o700)).unwrap();
    let public = host.join("public");
    std::fs::create_dir_all(&public).unwrap();
    for d in [&host, &public] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // nobody cannot see into root's directory on the host itself.
    nobody_fails(
        &[os("stat"), secret.join("exists").as_os_str()],
        "Permission denied",
    );
    let nb = m.dir.join("nb");
    let links = [
        ("exists", secret.join("exists")),
        ("missing", secret.join("missing")),
        ("public", public.clone()),
    ];
    for (name, target) in &links {
        nobody_ok(&[
            os("ln"),
            os("-s"),
            target.as_os_str(),
            nb.join(name).as_os_str(),
        ]);
        // The link reads back as given, for anyone.
        let shown = nobody_ok(&[os("readlink"), nb.join(name).as_os_str()]);
        assert_eq!(shown.trim_end(), target.to_str().unwrap());
    }
    assert!(!is_directory_link(&nb.join("exists")));
    assert!(!is_directory_link(&nb.join("missing")));
    assert_eq!(
        reliability::sys::lgetxattr(&nb.join("exists"), "system.ntfs_attrib"),
        reliability::sys::lgetxattr(&nb.join("missing"), "system.ntfs_attrib"),
        "the same link, whatever root's directory holds"
    );
    assert!(is_directory_link(&nb.join("public")), "looked as nobody");
    // Root, the mounting user, looks with its own rights.
    std::os::unix::fs::symlink(secret.join("exists"), m.dir.join("rootlink")).unwrap();
    assert!(is_directory_link(&m.dir.join("rootlink")));

    // Inside the drive: a 0700 directory of root's.
    let private = m.dir.join("private");
    std::fs::create_dir_all(private.join("sub")).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    for (name, target) in [
        ("in-sub", private.join("sub")),
        ("in-none", private.join("none")),
    ] {
        nobody_ok(&[
            os("ln"),
            os("-s"),
            target.as_os_str(),
            nb.join(name).as_os_str(),
        ]);
    }
    assert!(!is_directory_link(&nb.join("in-sub")));
    assert!(!is_directory_link(&nb.join("in-none")));
    // A target written with a trailing `/` names a directory, whoever writes it.
    let slash = format!("{}/", secret.join("missing").display());
    nobody_ok(&[os("ln"), os("-s"), os(&slash), nb.join("slash").as_os_str()]);
    assert!(is_directory_link(&nb.join("slash")));
    assert_eq!(reliability::control::check(&m.dir).unwrap(), "ok");
}
