//! Not built yet.

/// Arguments (not built yet).
#[derive(clap::Args, Debug)]
pub struct SaveArgs {}
/// Arguments (not built yet).
#[derive(clap::Args, Debug)]
pub struct DumpArgs {}

pub fn run_save(_a: SaveArgs) -> anyhow::Result<i32> {
    anyhow::bail!("this subcommand is not built yet")
}
pub fn run_dump(_a: DumpArgs) -> anyhow::Result<i32> {
    anyhow::bail!("this subcommand is not built yet")
}
