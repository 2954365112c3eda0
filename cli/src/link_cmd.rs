//! Not built yet.

/// Arguments (not built yet).
#[derive(clap::Args, Debug)]
pub struct LinkArgs {}

pub fn run(_a: LinkArgs) -> anyhow::Result<i32> {
    anyhow::bail!("this subcommand is not built yet")
}
