//! Not built yet.

/// Arguments (not built yet).
#[derive(clap::Args, Debug)]
pub struct BenchArgs {}

pub fn run(_a: BenchArgs) -> anyhow::Result<i32> {
    anyhow::bail!("this subcommand is not built yet")
}
