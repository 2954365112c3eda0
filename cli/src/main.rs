//! `ntlinkfs`: the one binary. Each subcommand lives in its own module under `cmd/`.

use clap::{Parser, Subcommand};

mod cmd;

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
    /// Save a running drive to an image file.
    Save(cmd::image::SaveArgs),
    /// Print a drive or an image as a fixture TOML.
    Dump(cmd::image::DumpArgs),
    /// Create a hard link or list a file's names through a mount's control channel.
    Link(cmd::link::LinkArgs),
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
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("ntlinkfs: {e:#}");
            std::process::exit(1);
        }
    }
}
