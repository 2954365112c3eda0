//! `ntlinkfs`: the one binary. Each subcommand lives in its own module.

use clap::{Parser, Subcommand};

mod bench;
mod conformance_cmd;
mod image_cmd;
mod link_cmd;
mod mount;
mod unmount;

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
    /// Unmount a drive; returns when its daemon has saved the image and exited.
    Unmount(unmount::UnmountArgs),
    /// Save a running drive to an image file.
    Save(image_cmd::SaveArgs),
    /// Print a drive or an image as a fixture TOML.
    Dump(image_cmd::DumpArgs),
    /// Create a hard link or list a file's names through a mount's control channel.
    Link(link_cmd::LinkArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Mount(a) => mount::run(a),
        Command::Conformance(a) => conformance_cmd::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Unmount(a) => unmount::run(a),
        Command::Save(a) => image_cmd::run_save(a),
        Command::Dump(a) => image_cmd::run_dump(a),
        Command::Link(a) => link_cmd::run(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("ntlinkfs: {e:#}");
            std::process::exit(1);
        }
    }
}
