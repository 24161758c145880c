#[dsops_macros::env("production", path = "config/dsops.yaml")]
pub struct Env;

fn main() {}
