//! `ntlinkfs`: the one binary. Each subcommand lives in its own module under `cmd/`.

use clap::{Parser, Subcommand};

mod cmd;
mod wincmd_status;
mod wincmd_sys;

/// An NTFS-faithful test drive: hard links with real link counts, junctions, symbolic links,
/// case-insensitive names and NTFS's delete and rename rules.
#[derive(Parser, Debug)]
#[command(name = "ntlinkfs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Mount a drive (runs in the foreground until unmounted or interrupted).
    Mount(cmd::mount::MountArgs),
    /// Run the conformance suite against ntlinkfs and real NTFS.
    Conformance(cmd::conformance::ConformanceArgs),
    /// Side-by-side benchmark against tmpfs and ntfs-3g.
    Bench(ntlinkfs_bench::BenchArgs),
    /// Unmount a drive; returns when its daemon has saved the image and exited.
    Unmount(cmd::unmount::UnmountArgs),
    /// Save a running drive to an image file.
    Save(cmd::image::SaveArgs),
    /// Print a drive or an image as a fixture TOML.
    Dump(cmd::image::DumpArgs),
    /// Create a hard link or list a file's names through a mount's control channel.
    Link(cmd::link::LinkArgs),
    /// cmd's MKLINK: make a symbolic link, hard link or junction.
    #[command(long_about = cmd::mklink::LONG_HELP)]
    Mklink(cmd::mklink::MklinkArgs),
    /// fsutil's HARDLINK (list, create) and REPARSEPOINT (query, delete) commands.
    #[command(long_about = cmd::fsutil::LONG_HELP)]
    Fsutil(cmd::fsutil::FsutilArgs),
    /// attrib.exe: show or change the R, H, S and A attributes.
    #[command(long_about = cmd::attrib::LONG_HELP)]
    Attrib(cmd::attrib::AttribArgs),
    /// du for NTFS hard links: the size of a tree with each file counted once.
    #[command(long_about = cmd::du::LONG_HELP)]
    Du(cmd::du::DuArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Mount(a) => cmd::mount::run(a),
        Command::Conformance(a) => cmd::conformance::run(a),
        Command::Bench(a) => ntlinkfs_bench::run(a),
        Command::Save(a) => cmd::image::run_save(a),
        Command::Dump(a) => cmd::image::run_dump(a),
        Command::Link(a) => cmd::link::run(a),
        Command::Mklink(a) => cmd::mklink::run(a),
        Command::Fsutil(a) => cmd::fsutil::run(a),
        Command::Attrib(a) => cmd::attrib::run(a),
        Command::Du(a) => cmd::du::run(a),
        Command::Unmount(a) => cmd::unmount::run(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("ntlinkfs: {e:#}");
            std::process::exit(1);
        }
    }
}
