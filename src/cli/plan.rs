//! `cclocal plan`.
use crate::error::Result;

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    pub model: String,
}

pub fn run(_args: &PlanArgs, _verbose: bool) -> Result<i32> {
    Ok(0)
}
