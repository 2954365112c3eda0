//! Not built yet.

/// Arguments (not built yet).
#[derive(clap::Args, Debug)]
pub struct MountArgs {}

pub fn run(_a: MountArgs) -> anyhow::Result<i32> {
    anyhow::bail!("this subcommand is not built yet")
}
