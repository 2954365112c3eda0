//! Not built yet.

/// Arguments (not built yet).
#[derive(clap::Args, Debug)]
pub struct ConformanceArgs {}

pub fn run(_a: ConformanceArgs) -> anyhow::Result<i32> {
    anyhow::bail!("this subcommand is not built yet")
}
