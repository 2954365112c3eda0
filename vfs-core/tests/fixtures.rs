//! Fixtures: the shipped examples load and mean what they say, drives round-trip through their
//! dump, and every kind of malformed fixture is refused with its line and the rule it breaks.

use std::path::{Path, PathBuf};
use vfs_core::fixture::{Fixture, FixtureError};
use vfs_core::{attrs, Error, FileKind, NewFile, Volume, MAX_LINKS};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 2, "examples/fixtures holds the shipped fixtures");
    v
}

fn example(name: &str) -> Volume {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/fixtures")
        .join(name);
    Volume::from_fixture_file(&p).unwrap_or_else(|e| panic!("{e}"))
}

/// Builds `text` as `tree.toml` and returns the refusal.
fn refused(text: &str) -> FixtureError {
    match Fixture::parse(text, "tree.toml").and_then(|f| f.build()) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

fn assert_refused(text: &str, line: usize, needles: &[&str]) {
    let e = refused(text);
    let shown = e.to_string();
    assert_eq!(e.line, line, "wrong line in: {shown}");
    assert!(
        shown.starts_with(&format!("tree.toml:{line}: ")),
        "no file:line prefix: {shown}"
    );
    for n in needles {
        assert!(shown.contains(n), "{shown:?} does not mention {n:?}");
    }
}

// ------------------------------------------------------------------ shipped examples

#[test]
fn every_shipped_example_loads_and_checks() {
    for p in examples() {
        let v = Volume::from_fixture_file(&p).unwrap_or_else(|e| panic!("{e}"));
        v.check().unwrap();
        assert!(v.file_count() > 10, "{}", p.display());
    }
}

#[test]
fn every_shipped_example_round_trips_through_its_dump() {
    for p in examples() {
        let v1 = Volume::from_fixture_file(&p).unwrap();
        let d1 = v1.to_fixture().unwrap();
        let v2 = Volume::from_fixture_str(&d1).unwrap_or_else(|e| panic!("{e}\n{d1}"));
        assert!(
            v1.same_tree(&v2),
            "{}: {:?}",
            p.display(),
            v1.tree_difference(&v2)
        );
        assert_eq!(v2.to_fixture().unwrap(), d1, "{}", p.display());
    }
}

#[test]
fn classics_iso_is_one_sparse_file_with_four_names_a1() {
    let v = example("classics.toml");
    let st = v
        .stat_path(r"\projects\gamma\vm\install.iso", false)
        .unwrap();
    assert_eq!(st.links, 4);
    assert_eq!(st.size, 4 << 30);
    assert!(
        st.allocated <= 64 * 1024,
        "sparse: {} bytes allocated",
        st.allocated
    );
    for p in [
        r"\isos\Win11_23H2.iso",
        r"\projects\alpha\Win11_23H2.iso",
        r"\projects\beta\WIN11.ISO",
    ] {
        assert_eq!(v.stat_path(p, false).unwrap().id, st.id, "{p}");
    }
    let mut pvd = [0u8; 6];
    v.read(st.id, 32768, &mut pvd).unwrap();
    assert_eq!(&pvd, b"\x01CD001");
    assert_ne!(st.attributes & attrs::SPARSE_FILE, 0);
}

#[test]
fn classics_legacy_config_is_a_hard_link_to_the_shared_one_a1() {
    let v = example("classics.toml");
    let a = v.stat_path(r"\shared\config.ini", false).unwrap();
    let b = v
        .stat_path(r"\Program Files (x86)\LegacyApp\config.ini", false)
        .unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(a.links, 2);
    assert_ne!(a.attributes & attrs::READONLY, 0);
    // Case preserved as written in `links`.
    let paths = v.link_paths(a.id).unwrap();
    assert_eq!(
        paths,
        [
            r"\shared\config.ini",
            r"\Program Files (x86)\LegacyApp\CONFIG.INI"
        ]
    );
    // Read-only is the file's (A1): the delete is refused through either name.
    assert_eq!(
        v.delete_path(r"\shared\config.ini", vfs_core::UnlinkKind::File),
        Err(Error::CannotDelete)
    );
}

#[test]
fn classics_stale_junction_dangles_and_symlink_loop_does_not_resolve_a3_a4() {
    let v = example("classics.toml");
    let j = v.stat_path(r"\build\latest", false).unwrap();
    assert_eq!(j.kind, FileKind::Directory);
    assert_eq!(
        j.reparse_tag,
        Some(vfs_core::reparse::IO_REPARSE_TAG_MOUNT_POINT)
    );
    assert!(v.resolve(r"\build\latest", true).is_err());
    assert_eq!(
        v.resolve(r"\loops\ping", true),
        Err(Error::ReparsePointNotResolved)
    );
    assert_eq!(
        v.resolve(r"\loops\self\x", true),
        Err(Error::ReparsePointNotResolved)
    );
}

#[test]
fn classics_case_sensitive_directory_holds_case_twins_a5() {
    let v = example("classics.toml");
    assert_ne!(
        v.stat_path(r"\wsl-src\Makefile", false).unwrap().id,
        v.stat_path(r"\wsl-src\makefile", false).unwrap().id
    );
    // New subdirectories inherit the flag (A5).
    assert!(
        v.stat_path(r"\wsl-src\include", false)
            .unwrap()
            .case_sensitive
    );
    assert!(!v.stat_path(r"\projects", false).unwrap().case_sensitive);
}

#[test]
fn classics_times_come_from_the_fixture() {
    let v = example("classics.toml");
    let default: toml_time::Ft = toml_time::parse("2024-01-15T09:30:00Z");
    let iso = v.stat_path(r"\isos\Win11_23H2.iso", false).unwrap();
    assert_eq!(iso.times.creation, toml_time::parse("2023-11-01T12:00:00Z"));
    assert_eq!(
        iso.times.last_write,
        toml_time::parse("2023-11-01T12:04:31Z")
    );
    assert_eq!(iso.times.last_access, default);
    assert_eq!(iso.times.change, default);
    // Parents' times too, though building wrote into them.
    assert_eq!(
        v.stat_path(r"\isos", false).unwrap().times.last_write,
        default
    );
    assert_eq!(v.stat(v.root()).unwrap().times.change, default);
}

/// FILETIMEs for the tests, computed independently of the crate (Unix seconds + epoch).
mod toml_time {
    pub type Ft = u64;
    pub fn parse(s: &str) -> Ft {
        // Only the fixed form YYYY-MM-DDTHH:MM:SSZ.
        let n = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap();
        let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
        let (hh, mm, ss) = (n(11, 13), n(14, 16), n(17, 19));
        let days_before_year = (1970..y)
            .map(|yr| if leap(yr) { 366 } else { 365 })
            .sum::<i64>();
        let month_days = [
            31,
            if leap(y) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        let days = days_before_year + month_days[..(m - 1) as usize].iter().sum::<i64>() + d - 1;
        let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
        vfs_core::FILETIME_UNIX_EPOCH + secs as u64 * 10_000_000
    }
    fn leap(y: i64) -> bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }
}

#[test]
fn pnpm_store_files_are_linked_into_every_project_and_reached_through_junctions_a1_a3() {
    let v = example("pnpm-store.toml");
    let lodash = v
        .stat_path(r"\proj-web\node_modules\lodash\lodash.js", true)
        .unwrap();
    // Store + two projects.
    assert_eq!(lodash.links, 3);
    let api = v
        .stat_path(r"\proj-api\node_modules\lodash\lodash.js", true)
        .unwrap();
    assert_eq!(api.id, lodash.id);
    assert!(v.link_paths(lodash.id).unwrap()[0]
        .to_string_lossy()
        .starts_with(r"\.pnpm-store\v3\files\"));
    // debug's own dependency is a junction beside it in .pnpm: Node resolves from debug's real
    // path (its junction's target), where `..\ms` is that junction. (A caller's own `..` is
    // lexical on Windows, so the real path is taken first, as Node's realpath does.)
    let debug = v.resolve(r"\proj-web\node_modules\debug", false).unwrap();
    let real = String::from_utf16(&v.read_link(debug).unwrap().print_name).unwrap();
    let ms = v
        .read_file_path(&format!(r"{real}\..\ms\index.js"))
        .unwrap();
    assert!(String::from_utf8(ms).unwrap().contains("'ms'"));
    // Removing a project's node_modules removes links, never store files (A2: links inside a
    // tree are removed as links).
    v.remove_tree(r"\proj-web\node_modules").unwrap();
    assert_eq!(v.stat(lodash.id).unwrap().links, 2);
    v.check().unwrap();
}

// ------------------------------------------------------------------ round trips

/// A fixture written exactly as the dump writes it comes back byte for byte:
/// fixture → drive → dump → the same fixture.
#[test]
fn canonical_fixture_round_trips_to_the_same_text() {
    let text = r#"[volume]
drive_letter = "D"
case_sensitive = true
delete_semantics = "legacy"
symlink_kind_rule = "legacy"
max_links = 8
time = 2024-05-06T07:08:09Z

[root]
attributes = ["hidden"]
modified = 2024-05-06T07:08:10.1234567Z

[[dir]]
path = "A"
case_sensitive = false
attributes = ["readonly", "not_content_indexed"]
uid = 1000
gid = 100
mode = 0o700

[[junction]]
path = "A/j"
target = 'D:\a'

[[symlink]]
path = "A/s"
target = 'x.bin'

[[dir]]
path = "A/sub"

[[file]]
path = "A/x.bin"
hex = "00ff00ff"
links = [
  "a/X.BIN",
  "a/y.bin",
]
attributes = []
created = 1999-12-31T23:59:59Z
accessed = 2024-01-01T00:00:00.1234567Z
changed = 2000-01-01T00:00:00Z

[[dir]]
path = "a"

[[file]]
path = "a/big.dat"
text = "head"
size = 1099511627776

[[file.extent]]
offset = 1048576
text = """
middle
"""

[[file.extent]]
offset = 1099511627000
hex = "01"

[[reparse]]
path = "a/odd"
buffer = "0c0000a0140000000000040004000400010000007300780079007800"

[[symlink]]
path = "a/sd"
target = '\\server\share\dir'
directory = true
attributes = ["hidden"]

[[file]]
path = "a/z.txt"
text = "zz"
mode = 0o600
"#;
    let v = Volume::from_fixture_str(text).unwrap_or_else(|e| panic!("{e}"));
    let dumped = v.to_fixture().unwrap();
    // The dump writes symlink targets with TOML's own quoting.
    let expected = text.replace("target = 'x.bin'", "target = \"x.bin\"");
    assert_eq!(dumped, expected, "\n--- dumped:\n{dumped}");
}

#[test]
fn hard_links_are_dumped_as_links_not_copies_a1() {
    let v = Volume::from_fixture_str(
        r#"
        [[dir]]
        path = "d"
        [[file]]
        path = "d/one"
        text = "same"
        [[hardlink]]
        path = "two"
        target = "d/one"
    "#,
    )
    .unwrap();
    let d = v.to_fixture().unwrap();
    assert_eq!(d.matches("text = \"same\"").count(), 1, "{d}");
    assert!(d.contains("links = [\"two\"]"), "{d}");
    assert_eq!(v.stat_path(r"\two", false).unwrap().links, 2);
}

#[test]
fn a_drive_built_by_hand_becomes_a_fixture() {
    let v = Volume::new(vfs_core::VolumeOptions::default());
    v.create_path(r"\Src", &NewFile::dir()).unwrap();
    let f = v
        .write_file_path(r"\Src\Main.rs", b"fn main() {}\n")
        .unwrap();
    v.hard_link_path(r"\Src\Main.rs", r"\main-copy.rs").unwrap();
    v.create_symlink(r"\lnk", r"Src\Main.rs", false).unwrap();
    v.create_junction(r"\jn", r"C:\Src").unwrap();
    let big = v.create_path(r"\sparse.img", &NewFile::file()).unwrap();
    v.set_size(big, 10 << 30).unwrap();
    v.write(big, 5 << 30, b"middle").unwrap();
    v.set_attributes(f, attrs::HIDDEN).unwrap();
    // Third-party reparse point with a GUID, kept byte for byte.
    let odd = v.write_file_path(r"\cloud.txt", b"cached content").unwrap();
    let rp = vfs_core::reparse::ReparseBuffer::other(0x9000_601A, None, b"cloud").unwrap();
    v.set_reparse_point(odd, rp.as_bytes()).unwrap();
    // A symlink that was given data after it was made (the engine lets a write through).
    let s = v.create_symlink(r"\odd-link", "target", false).unwrap();
    v.write(s, 0, b"payload").unwrap();
    let d = v.to_fixture().unwrap();
    let back = Volume::from_fixture_str(&d).unwrap_or_else(|e| panic!("{e}\n{d}"));
    assert!(v.same_tree(&back), "{:?}\n{d}", v.tree_difference(&back));
    assert_eq!(back.to_fixture().unwrap(), d);
    assert!(d.contains("[[reparse]]"), "{d}");
    assert!(d.contains("size = 10737418240"), "{d}");
    assert!(back.stat_path(r"\sparse.img", false).unwrap().allocated <= 64 * 1024);
}

// ------------------------------------------------------------------ malformed fixtures

#[test]
fn bad_toml_is_refused_with_its_line() {
    assert_refused("[[dir]]\npath = \"a\"\n\n[[file]\npath = \"b\"\n", 4, &[]);
    assert_refused("[[dir]]\npath = \"a\"\n[[dir]]\npath =\n", 4, &[]);
    assert_refused(
        "[[dir]]\npath = \"a\"\npath = \"b\"\n",
        3,
        &["duplicate key"],
    );
}

#[test]
fn unknown_key_is_refused_with_its_line() {
    assert_refused(
        "[[dir]]\npath = \"a\"\n\n[[file]]\npath = \"b\"\ncolour = \"red\"\n",
        6,
        &["unknown field `colour`"],
    );
    assert_refused("[volume]\ndrive = \"C\"\n", 2, &["unknown field `drive`"]);
    assert_refused("[[folder]]\npath = \"a\"\n", 1, &["unknown field `folder`"]);
}

#[test]
fn key_in_the_wrong_table_is_refused() {
    assert_refused(
        "[[dir]]\npath = \"a\"\ntext = \"hello\"\n",
        2,
        &["[[dir]] does not take `text`"],
    );
    assert_refused(
        "[[junction]]\npath = \"j\"\ntarget = 'C:\\x'\nlinks = [\"k\"]\n",
        2,
        &["does not take `links`"],
    );
}

#[test]
fn bad_path_is_refused() {
    assert_refused("[[dir]]\npath = \"a/../b\"\n", 2, &["`..`"]);
    assert_refused("[[dir]]\npath = \"/\"\n", 2, &["[root]"]);
    assert_refused(
        &format!("[[file]]\npath = \"{}\"\n", "n".repeat(256)),
        2,
        &["longer than 255", "A5"],
    );
}

#[test]
fn name_with_a_colon_is_refused_a5() {
    assert_refused(
        "[[dir]]\npath = \"d\"\n\n[[file]]\npath = \"d/file:stream\"\ntext = \"x\"\n",
        5,
        &[
            "\"file:stream\"",
            "':'",
            "STATUS_OBJECT_NAME_INVALID",
            "docs/NTFS-RULES.md A5",
        ],
    );
    assert_refused(
        "[[file]]\npath = \"f\"\nlinks = [\"a\",\n  \"b|c\"]\n",
        4,
        &["\"b|c\"", "A5"],
    );
}

#[test]
fn junction_on_a_file_is_refused_a3() {
    assert_refused(
        "[volume]\ntime = 2024-01-01T00:00:00Z\n\n[[junction]]\npath = \"j\"\ntarget = 'C:\\store'\ndirectory = false\n",
        5,
        &[
            "junction \"j\" on a file",
            "mount points need an empty directory",
            "STATUS_NOT_A_DIRECTORY",
            "docs/NTFS-RULES.md A3",
        ],
    );
    // The same through a raw mount point buffer.
    let rp = vfs_core::reparse::junction_for_target(&vfs_core::name::wide(r"C:\x"), 'C').unwrap();
    let hex: String = rp.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_refused(
        &format!("[[reparse]]\npath = \"r\"\nbuffer = \"{hex}\"\n"),
        2,
        &["STATUS_NOT_A_DIRECTORY", "A3"],
    );
}

#[test]
fn the_1025th_link_is_refused_a1() {
    let mut t = String::from("[[dir]]\npath = \"d\"\n[[file]]\npath = \"f\"\nlinks = [\n");
    for i in 1..MAX_LINKS {
        t.push_str(&format!("  \"d/l{i}\",\n"));
    }
    // 1024 names so far (f and 1023 links on lines 6..=1028); the 1025th is on line 1029.
    t.push_str("  \"d/one-too-many\",\n]\n");
    assert_refused(
        &t,
        1029,
        &[
            "\"d/one-too-many\"",
            "at most 1024 names",
            "STATUS_TOO_MANY_LINKS",
            "docs/NTFS-RULES.md A1",
        ],
    );
    // 1024 names are fine.
    let ok = t.replace("  \"d/one-too-many\",\n", "");
    let v = Volume::from_fixture_str(&ok).unwrap();
    assert_eq!(v.stat_path(r"\f", false).unwrap().links, 1024);
}

#[test]
fn invalid_symlink_target_is_refused_a4() {
    assert_refused(
        "[[symlink]]\npath = \"s\"\ntarget = \"D:relative\"\n",
        2,
        &["drive-relative", "STATUS_IO_REPARSE_DATA_INVALID", "A4"],
    );
    assert_refused(
        "[[symlink]]\npath = \"s\"\ntarget = \"\"\n",
        2,
        &["empty", "A4"],
    );
    assert_refused(
        &format!(
            "[[symlink]]\npath = \"s\"\ntarget = \"{}\"\n",
            "x\\\\".repeat(6000)
        ),
        2,
        &["16384", "A4"],
    );
    assert_refused(
        "[[junction]]\npath = \"j\"\ntarget = 'relative\\dir'\n",
        2,
        &["junction target must be absolute", "A3"],
    );
    assert_refused(
        "[[junction]]\npath = \"j\"\ntarget = '\\\\server\\share'\n",
        2,
        &["local volume", "A3"],
    );
    assert_refused("[[symlink]]\npath = \"s\"\n", 2, &["needs a `target`"]);
}

#[test]
fn duplicate_names_in_different_case_are_refused_a5() {
    assert_refused(
        "[[dir]]\npath = \"Docs\"\n\n[[file]]\npath = \"docs/a.txt\"\n\n[[file]]\npath = \"DOCS/A.TXT\"\n",
        8,
        &[
            "file \"DOCS/A.TXT\"",
            "collides with \"a.txt\"",
            "case-insensitive",
            "STATUS_OBJECT_NAME_COLLISION",
            "A5",
        ],
    );
    // The same names are fine in a case-sensitive directory.
    Volume::from_fixture_str(
        "[[dir]]\npath = \"d\"\ncase_sensitive = true\n[[file]]\npath = \"d/a\"\n[[file]]\npath = \"d/A\"\n",
    )
    .unwrap();
    // And the exact same name twice is a plain duplicate.
    assert_refused(
        "[[file]]\npath = \"a\"\n[[file]]\npath = \"a\"\n",
        4,
        &["already listed"],
    );
}

#[test]
fn missing_parent_is_refused() {
    assert_refused(
        "[[dir]]\npath = \"a\"\n\n[[file]]\npath = \"a/b/c.txt\"\n",
        5,
        &["parent directory \"a/b\" does not exist", "[[dir]]"],
    );
    assert_refused(
        "[[file]]\npath = \"f\"\n[[file]]\npath = \"f/g\"\n",
        4,
        &["\"f\" is a file"],
    );
    // Paths never go through a junction, even one that leads somewhere real.
    assert_refused(
        "[[dir]]\npath = \"real\"\n[[junction]]\npath = \"j\"\ntarget = 'C:\\real'\n[[file]]\npath = \"f\"\nlinks = [\"j/f\"]\n",
        8,
        &["\"j\" is a link"],
    );
}

#[test]
fn hard_link_to_a_directory_or_a_missing_file_is_refused_a1() {
    assert_refused(
        "[[dir]]\npath = \"d\"\n[[hardlink]]\npath = \"e\"\ntarget = \"d\"\n",
        4,
        &[
            "directories cannot have hard links",
            "STATUS_FILE_IS_A_DIRECTORY",
            "A1",
        ],
    );
    assert_refused(
        "[[hardlink]]\npath = \"e\"\ntarget = \"nothing\"\n",
        2,
        &["\"nothing\" does not exist"],
    );
    assert_refused(
        "[[symlink]]\npath = \"s\"\ntarget = \"x\"\ndirectory = true\nlinks = [\"t\"]\n",
        2,
        &["directories have exactly one name"],
    );
}

#[test]
fn bad_values_are_refused_with_their_line() {
    assert_refused(
        "[[file]]\npath = \"f\"\nattributes = [\"hidden\", \"directory\"]\n",
        3,
        &["\"directory\" cannot be set", "MS-FSA"],
    );
    assert_refused(
        "[[file]]\npath = \"f\"\ncreated = 2024-01-01T00:00:00\n",
        3,
        &["no UTC offset"],
    );
    assert_refused(
        "[[file]]\npath = \"f\"\ncreated = \"yesterday\"\n",
        3,
        &["not an RFC 3339"],
    );
    assert_refused(
        "[[file]]\npath = \"f\"\ncreated = 1600-12-31T00:00:00Z\n",
        3,
        &["before 1601"],
    );
    assert_refused("[[file]]\npath = \"f\"\nbytes = [1, 2, 256]\n", 3, &[]);
    assert_refused(
        "[[file]]\npath = \"f\"\nhex = \"abc\"\n",
        3,
        &["odd number"],
    );
    assert_refused(
        "[[file]]\npath = \"f\"\nhex = \"zz\"\n",
        3,
        &["not a hex digit"],
    );
    assert_refused(
        "[[file]]\npath = \"f\"\ntext = \"a\"\nhex = \"00\"\n",
        2,
        &["give the data once"],
    );
    assert_refused(
        "[[file]]\npath = \"f\"\ntext = \"hello\"\nsize = 2\n",
        2,
        &["smaller than its data"],
    );
    assert_refused(
        "[[file]]\npath = \"f\"\nsize = 17592186044417\n",
        2,
        &["maximum file size"],
    );
    assert_refused("[[dir]]\npath = \"d\"\nmode = 0o10000\n", 3, &["0o7777"]);
    assert_refused("[volume]\ndrive_letter = \"CD\"\n", 2, &["one letter"]);
    assert_refused(
        "[volume]\ndelete_semantics = \"soon\"\n",
        2,
        &["\"posix\" or \"legacy\""],
    );
    assert_refused(
        "[[reparse]]\npath = \"r\"\nbuffer = \"0100000000000000\"\n",
        2,
        &["reserved", "STATUS_IO_REPARSE_DATA_INVALID"],
    );
}

#[test]
fn missing_fixture_file_is_a_clear_error() {
    let e = Volume::from_fixture_file(Path::new("/nonexistent/tree.toml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/tree.toml: cannot read"),
        "{e}"
    );
}

#[test]
fn build_with_takes_owner_and_read_only_from_the_mount() {
    let fx = Fixture::parse(
        "[volume]\ndrive_letter = \"E\"\n[[file]]\npath = \"f\"\ntext = \"x\"\n[[file]]\npath = \"g\"\nuid = 7\n",
        "t.toml",
    )
    .unwrap();
    let base = vfs_core::VolumeOptions {
        default_uid: 1000,
        default_gid: 100,
        read_only: true,
        ..vfs_core::VolumeOptions::default()
    };
    let v = fx.build_with(&base).unwrap();
    assert!(v.options().read_only);
    assert_eq!(v.options().drive_letter, 'E');
    let f = v.stat_path(r"\f", false).unwrap();
    assert_eq!((f.uid, f.gid), (1000, 100));
    assert_eq!(v.stat_path(r"\g", false).unwrap().uid, 7);
    assert_eq!(v.write_file_path(r"\h", b""), Err(Error::ReadOnlyVolume));
}

// ------------------------------------------------------------------ special files

#[test]
fn special_files_build_as_their_reparse_points_and_dump_back() {
    use vfs_core::reparse::{ReparseBuffer, IO_REPARSE_TAG_LX_CHR};
    use vfs_core::SpecialFile;
    let text = r#"
[[dir]]
path = "run"

[[special]]
path = "run/app.sock"
kind = "socket"
mode = 0o755

[[special]]
path = "run/queue"
kind = "fifo"
links = ["queue2"]

[[special]]
path = "null"
kind = "char"
device = [1, 3]
uid = 0
gid = 0
mode = 0o666

[[special]]
path = "sda"
kind = "block"
device = [8, 0]
"#;
    let v = Volume::from_fixture_str(text).unwrap_or_else(|e| panic!("{e}"));
    let sock = v.stat_path(r"\run\APP.sock", false).unwrap();
    assert_eq!(sock.special, Some(SpecialFile::Socket));
    assert_eq!(sock.mode, 0o755);
    let fifo = v.stat_path(r"\queue2", false).unwrap();
    assert_eq!(fifo.special, Some(SpecialFile::Fifo));
    assert_eq!(fifo.links, 2);
    let null = v.stat_path(r"\null", false).unwrap();
    assert_eq!(null.reparse_tag, Some(IO_REPARSE_TAG_LX_CHR));
    assert_eq!(
        v.get_reparse_point(null.id).unwrap(),
        ReparseBuffer::special(SpecialFile::CharDevice { major: 1, minor: 3 }).as_bytes()
    );
    let dump = v.to_fixture().unwrap();
    assert!(
        dump.contains("[[special]]\npath = \"null\"\nkind = \"char\"\ndevice = [1, 3]\n"),
        "{dump}"
    );
    assert!(dump.contains("kind = \"fifo\""), "{dump}");
    assert!(dump.contains("kind = \"socket\""), "{dump}");
    assert!(dump.contains("kind = \"block\"\ndevice = [8, 0]"), "{dump}");
    let back = Volume::from_fixture_str(&dump).unwrap_or_else(|e| panic!("{e}\n{dump}"));
    assert!(v.same_tree(&back), "{:?}", v.tree_difference(&back));
}

#[test]
fn a_wsl_device_buffer_without_its_number_stays_a_raw_reparse_entry() {
    // WSL and ntfs-3g (special_files=wsl) write LX_CHR with no data (the number lives in the
    // $LXDEV EA): a fixture keeps such a buffer byte for byte rather than inventing 0:0.
    let v = Volume::from_fixture_str("[[reparse]]\npath = \"c\"\nbuffer = \"2500008000000000\"\n")
        .unwrap();
    let st = v.stat_path(r"\c", false).unwrap();
    assert_eq!(
        st.special,
        Some(vfs_core::SpecialFile::CharDevice { major: 0, minor: 0 })
    );
    let dump = v.to_fixture().unwrap();
    assert!(dump.contains("buffer = \"2500008000000000\""), "{dump}");
}

#[test]
fn bad_special_entries_are_refused_with_their_line() {
    assert_refused(
        "[[special]]\npath = \"x\"\n",
        2,
        &["[[special]] needs `kind`"],
    );
    assert_refused(
        "[[special]]\npath = \"x\"\nkind = \"char\"\n",
        3,
        &["device number"],
    );
    assert_refused(
        "[[special]]\npath = \"x\"\nkind = \"fifo\"\ndevice = [1, 2]\n",
        3,
        &["no device number"],
    );
    assert_refused(
        "[[special]]\npath = \"x\"\nkind = \"door\"\n",
        3,
        &["unknown special file kind"],
    );
    assert_refused(
        "[[special]]\npath = \"x\"\nkind = \"block\"\ndevice = [1]\n",
        4,
        &["[MAJOR, MINOR]"],
    );
    assert_refused(
        "[[special]]\npath = \"x\"\nkind = \"fifo\"\ntext = \"data\"\n",
        2,
        &["[[special]] does not take `text`"],
    );
}
