//! `ntlinkfs`: the one binary. Each subcommand lives in its own module.

use clap::{Parser, Subcommand};

mod attrib;
mod bench;
mod conformance_cmd;
mod du;
mod fsutil;
mod image_cmd;
mod link_cmd;
mod mklink;
mod mount;
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
    Mount(mount::MountArgs),
    /// Run the conformance suite against ntlinkfs and real NTFS.
    Conformance(conformance_cmd::ConformanceArgs),
    /// Side-by-side benchmark against tmpfs and ntfs-3g.
    Bench(bench::BenchArgs),
    /// Save a running drive to an image file.
    Save(image_cmd::SaveArgs),
    /// Print a drive or an image as a fixture TOML.
    Dump(image_cmd::DumpArgs),
    /// Create a hard link or list a file's names through a mount's control channel.
    Link(link_cmd::LinkArgs),
    /// cmd's MKLINK: make a symbolic link, hard link or junction.
    #[command(long_about = mklink::LONG_HELP)]
    Mklink(mklink::MklinkArgs),
    /// fsutil's HARDLINK (list, create) and REPARSEPOINT (query, delete) commands.
    #[command(long_about = fsutil::LONG_HELP)]
    Fsutil(fsutil::FsutilArgs),
    /// attrib.exe: show or change the R, H, S and A attributes.
    #[command(long_about = attrib::LONG_HELP)]
    Attrib(attrib::AttribArgs),
    /// du for NTFS hard links: the size of a tree with each file counted once.
    #[command(long_about = du::LONG_HELP)]
    Du(du::DuArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Mount(a) => mount::run(a),
        Command::Conformance(a) => conformance_cmd::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Save(a) => image_cmd::run_save(a),
        Command::Dump(a) => image_cmd::run_dump(a),
        Command::Link(a) => link_cmd::run(a),
        Command::Mklink(a) => mklink::run(a),
        Command::Fsutil(a) => fsutil::run(a),
        Command::Attrib(a) => attrib::run(a),
        Command::Du(a) => du::run(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("ntlinkfs: {e:#}");
            std::process::exit(1);
        }
    }
}
