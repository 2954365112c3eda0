//! Issue 17 item 1 through real mounts: the daemon's permission checks (`perm`), on a
//! single-user mount made by a user other than root (the default: no `default_permissions`),
//! and with several users, where every rule must give what the kernel's own checks
//! (`default_permissions`) give: each multi-user case runs once per mode and expects the
//! same answer.
//!
//! Other users are played by `setpriv` (util-linux) with no capabilities and no
//! supplementary groups. The single-user case runs this test binary again as nobody, which
//! then mounts through the setuid `fusermount3` (fuse3).

mod common;
use backend_fuse::{MountOptions, Permissions};
use common::*;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use vfs_core::VolumeOptions;

/// A second unprivileged user (no account needed: ids are only numbers to the kernel).
const OTHER: u32 = 65533;
/// Set in the copy of this binary that runs as nobody.
const CHILD: &str = "NTLINKFS_PERMISSIONS_CHILD";

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[track_caller]
fn user_ok(uid: u32, args: &[&OsStr]) {
    let (ok, err) = as_user(uid, args);
    assert!(ok, "{args:?} as {uid} failed: {err}");
}

#[track_caller]
fn user_fails(uid: u32, args: &[&OsStr], text: &str) {
    let (ok, err) = as_user(uid, args);
    assert!(
        !ok && err.contains(text),
        "{args:?} as {uid}: expected \"{text}\", got ok={ok}: {err}"
    );
}

const EACCES: &str = "Permission denied";
const EPERM: &str = "Operation not permitted";

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// The file system options of the mount at `dir` (/proc/self/mountinfo's last field).
fn super_options(dir: &Path) -> String {
    let m = host::mountinfo::at(dir)
        .pop()
        .unwrap_or_else(|| panic!("{} not in mountinfo", dir.display()));
    m.super_options
}

fn shared(mode: Permissions) -> Mounted {
    need("fusermount3", "fuse3");
    let m = Mounted::with(
        VolumeOptions::default(),
        MountOptions {
            allow_other: true,
            permissions: mode,
            ..MountOptions::default()
        },
    );
    let line = super_options(m.root());
    assert_eq!(
        line.contains("default_permissions"),
        mode == Permissions::Kernel,
        "{mode:?}: {line}"
    );
    m
}

/// Sticky directories, directory write and search, access(2), chdir, open, chmod, chown,
/// utimes, truncate, `user.*` xattrs and protected hard links, for two users and root.
fn multi_user_rules(mode: Permissions) {
    need("setfattr", "attr");
    let m = shared(mode);
    chmod(m.root(), 0o1777);
    let rootfile = m.p("rootfile");
    fs::write(&rootfile, b"root's").unwrap();
    chmod(&rootfile, 0o666);

    // Sticky: only the file's owner, the directory's owner or root removes or renames.
    user_fails(NOBODY, &[os("rm"), rootfile.as_os_str()], EPERM);
    user_fails(
        NOBODY,
        &[os("mv"), rootfile.as_os_str(), m.p("moved").as_os_str()],
        EPERM,
    );
    let mine = m.p("mine");
    user_ok(NOBODY, &[os("touch"), mine.as_os_str()]);
    user_fails(OTHER, &[os("rm"), mine.as_os_str()], EPERM);
    user_ok(
        NOBODY,
        &[os("mv"), mine.as_os_str(), m.p("mine2").as_os_str()],
    );
    user_ok(NOBODY, &[os("rm"), m.p("mine2").as_os_str()]);
    chmod(m.root(), 0o777);
    user_ok(
        NOBODY,
        &[os("mv"), rootfile.as_os_str(), m.p("moved").as_os_str()],
    );
    user_ok(
        NOBODY,
        &[os("mv"), m.p("moved").as_os_str(), rootfile.as_os_str()],
    );

    // A directory only root may search: even a name root has just walked (cached by the
    // kernel) is refused to another user; no write, no new names.
    let sec = m.p("sec");
    fs::create_dir(&sec).unwrap();
    fs::write(sec.join("f"), b"x").unwrap();
    chmod(&sec, 0o700);
    fs::metadata(sec.join("f")).unwrap();
    user_fails(NOBODY, &[os("stat"), sec.join("f").as_os_str()], EACCES);
    user_fails(
        NOBODY,
        &[os("env"), os("-C"), sec.as_os_str(), os("true")],
        EACCES,
    );
    chmod(&sec, 0o755);
    user_ok(NOBODY, &[os("stat"), sec.join("f").as_os_str()]);
    user_fails(NOBODY, &[os("touch"), sec.join("new").as_os_str()], EACCES);
    user_fails(NOBODY, &[os("mkdir"), sec.join("new").as_os_str()], EACCES);
    user_fails(NOBODY, &[os("rm"), sec.join("f").as_os_str()], EACCES);
    user_fails(
        NOBODY,
        &[os("ln"), os("-s"), os("x"), sec.join("l").as_os_str()],
        EACCES,
    );

    // access(2) answers for the asking user (coreutils test calls faccessat).
    let ro = m.p("ro");
    fs::write(&ro, b"r").unwrap();
    chmod(&ro, 0o644);
    user_ok(NOBODY, &[os("/usr/bin/test"), os("-r"), ro.as_os_str()]);
    let (w, _) = as_user(NOBODY, &[os("/usr/bin/test"), os("-w"), ro.as_os_str()]);
    assert!(!w, "{mode:?}: nobody may write a 0644 file of root's");
    let (x, _) = as_user(NOBODY, &[os("/usr/bin/test"), os("-x"), ro.as_os_str()]);
    assert!(!x, "{mode:?}: nobody may execute a 0644 file");
    // execve: the kernel only looks for some execute bit; the open it sends for the exec
    // carries __FMODE_EXEC, and nobody (other: read only) may not run root's 0744 script.
    let tool = m.p("tool");
    fs::write(&tool, b"#!/bin/sh\necho ran\n").unwrap();
    // (Through sh: setpriv's own execve may still hold root's capabilities here.)
    let run = format!("{}", tool.display());
    chmod(&tool, 0o744);
    user_fails(NOBODY, &[os("sh"), os("-c"), os(&run)], EACCES);
    chmod(&tool, 0o745);
    user_ok(NOBODY, &[os("sh"), os("-c"), os(&run)]);
    // Open, truncate, utimes, chmod, chown, xattrs on root's 0644 file.
    user_fails(
        NOBODY,
        &[os("sh"), os("-c"), os(&format!("echo > {}", ro.display()))],
        EACCES,
    );
    user_fails(
        NOBODY,
        &[os("truncate"), os("-s"), os("0"), ro.as_os_str()],
        EACCES,
    );
    user_fails(NOBODY, &[os("touch"), ro.as_os_str()], EACCES);
    user_fails(
        NOBODY,
        &[
            os("touch"),
            os("-d"),
            os("2001-01-01"),
            rootfile.as_os_str(),
        ],
        EPERM,
    );
    user_ok(NOBODY, &[os("touch"), rootfile.as_os_str()]);
    user_fails(NOBODY, &[os("chmod"), os("666"), ro.as_os_str()], EPERM);
    user_fails(
        NOBODY,
        &[
            os("setfattr"),
            os("-n"),
            os("user.x"),
            os("-v"),
            os("1"),
            ro.as_os_str(),
        ],
        EACCES,
    );
    let secret = m.p("secret");
    fs::write(&secret, b"s").unwrap();
    chmod(&secret, 0o600);
    xattr::set(&secret, "user.y", b"2").unwrap();
    user_fails(NOBODY, &[os("cat"), secret.as_os_str()], EACCES);
    user_fails(
        NOBODY,
        &[os("getfattr"), os("-n"), os("user.y"), secret.as_os_str()],
        EACCES,
    );
    // fs.protected_hardlinks (on here): no link to a file nobody could write.
    let protected = fs::read_to_string("/proc/sys/fs/protected_hardlinks").unwrap();
    assert_eq!(
        protected.trim(),
        "1",
        "this test expects fs.protected_hardlinks=1"
    );
    user_fails(
        NOBODY,
        &[os("ln"), secret.as_os_str(), m.p("hard").as_os_str()],
        EPERM,
    );
    user_ok(
        NOBODY,
        &[os("ln"), rootfile.as_os_str(), m.p("hard").as_os_str()],
    );
    // chown: nothing may be given away, and chgrp only to the owner's groups.
    let own = m.p("own");
    user_ok(NOBODY, &[os("touch"), own.as_os_str()]);
    user_fails(NOBODY, &[os("chown"), os("0"), own.as_os_str()], EPERM);
    user_fails(NOBODY, &[os("chgrp"), os("0"), own.as_os_str()], EPERM);
    user_ok(
        NOBODY,
        &[os("chgrp"), os(&NOBODY.to_string()), own.as_os_str()],
    );
    // chmod by the owner outside the file's group loses set-group-ID.
    fs::set_permissions(&own, fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::chown(&own, Some(NOBODY), Some(0)).unwrap();
    user_ok(NOBODY, &[os("chmod"), os("2755"), own.as_os_str()]);
    assert_eq!(
        fs::metadata(&own).unwrap().mode() & 0o7777,
        0o755,
        "{mode:?}"
    );
    // A directory moved to another parent needs write permission on itself (its `..`).
    let nd = m.p("nd");
    user_ok(NOBODY, &[os("mkdir"), nd.as_os_str()]);
    user_ok(NOBODY, &[os("mkdir"), nd.join("sub").as_os_str()]);
    user_ok(NOBODY, &[os("mkdir"), nd.join("to").as_os_str()]);
    user_ok(
        NOBODY,
        &[os("chmod"), os("555"), nd.join("sub").as_os_str()],
    );
    user_fails(
        NOBODY,
        &[
            os("mv"),
            nd.join("sub").as_os_str(),
            nd.join("to/sub").as_os_str(),
        ],
        EACCES,
    );
    user_ok(
        NOBODY,
        &[
            os("mv"),
            nd.join("sub").as_os_str(),
            nd.join("sub2").as_os_str(),
        ],
    );
    m.finish();
}

#[test]
fn several_users_get_the_kernels_answers_from_the_daemon() {
    multi_user_rules(Permissions::Daemon);
}

#[test]
fn several_users_get_the_same_answers_from_the_kernel() {
    multi_user_rules(Permissions::Kernel);
}

/// The default mount, made by a user other than root: no `default_permissions`, and the
/// daemon's checks hold for that user. A chmod that takes search permission from a directory
/// whose names the kernel has cached refuses the next walk at once (the epoch is raised
/// before the chmod returns), and giving it back lets the walk through again.
#[test]
fn a_non_root_mounter_is_checked_by_the_daemon() {
    if std::env::var_os(CHILD).is_some() {
        return mounter_side();
    }
    // SAFETY: geteuid cannot fail.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root (it plays the mounting user with setpriv)"
    );
    need("fusermount3", "fuse3");
    let dev = fs::metadata("/dev/fuse").expect("/dev/fuse (install fuse3, modprobe fuse)");
    assert_eq!(
        dev.mode() & 0o666,
        0o666,
        "a user other than root opens /dev/fuse before fusermount3 mounts: make it 0666 as \
         distributions do (scripts/install-deps.sh does: chmod 666 /dev/fuse)"
    );
    let exe = std::env::current_exe().unwrap();
    let id = NOBODY.to_string();
    let out = Command::new("setpriv")
        .args(["--reuid", &id, "--regid", &id, "--clear-groups", "--"])
        .arg(&exe)
        .args([
            "--exact",
            "a_non_root_mounter_is_checked_by_the_daemon",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, "1")
        .env("TMPDIR", "/tmp")
        .output()
        .expect("run this test as nobody");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "as nobody:\n{text}");
    assert!(text.contains("1 passed"), "the child ran the test:\n{text}");
}

fn mounter_side() {
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    assert_eq!(me, NOBODY);
    let m = Mounted::with(
        VolumeOptions {
            default_uid: NOBODY,
            default_gid: NOBODY,
            ..VolumeOptions::default()
        },
        MountOptions::default(),
    );
    let line = super_options(m.root());
    assert!(!line.contains("default_permissions"), "{line}");
    let d = m.p("d");
    fs::create_dir(&d).unwrap();
    fs::write(d.join("f"), b"mine").unwrap();
    fs::create_dir(d.join("sub")).unwrap();
    // Cached: the kernel walks these without asking from now on.
    fs::metadata(d.join("f")).unwrap();
    fs::metadata(d.join("sub")).unwrap();
    for mode in [0o000, 0o600, 0o655] {
        chmod(&d, mode);
        if mode & 0o400 != 0 {
            // Readable, not searchable: the names list, but what READDIRPLUS gave is not
            // walked without asking.
            let names: Vec<_> = fs::read_dir(&d)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names.len(), 2, "{names:?}");
        }
        assert_errno(fs::metadata(d.join("f")), libc::EACCES);
        assert_errno(fs::metadata(d.join("sub")), libc::EACCES);
        assert_errno(fs::read(d.join("f")), libc::EACCES);
        chmod(&d, 0o700);
        assert_eq!(fs::read(d.join("f")).unwrap(), b"mine");
    }
    // access(2) and chdir(2) ask the daemon.
    let f = cstr(&d.join("f"));
    chmod(&d.join("f"), 0o444);
    // SAFETY: a valid path.
    let access = |mode| unsafe { libc::access(f.as_ptr(), mode) };
    assert_eq!(access(libc::R_OK), 0);
    assert_eq!(access(libc::W_OK), -1);
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::EACCES)
    );
    assert_eq!(access(libc::X_OK), -1);
    assert_errno(
        fs::OpenOptions::new().write(true).open(d.join("f")),
        libc::EACCES,
    );
    chmod(&d.join("sub"), 0o600);
    assert_errno(std::env::set_current_dir(d.join("sub")), libc::EACCES);
    chmod(&d.join("sub"), 0o700);
    std::env::set_current_dir(d.join("sub")).unwrap();
    std::env::set_current_dir("/").unwrap();
    // No write permission on the directory: no new names, no removals.
    chmod(&d, 0o500);
    assert_errno(fs::write(d.join("new"), b""), libc::EACCES);
    assert_errno(fs::remove_file(d.join("f")), libc::EACCES);
    assert_errno(fs::rename(d.join("f"), d.join("g")), libc::EACCES);
    chmod(&d, 0o700);
    fs::remove_file(d.join("f")).unwrap();
    m.finish();
}
