#[dsops_macros::env("production", path = "ui/invalid.yaml")]
pub struct Env;

fn main() {}
