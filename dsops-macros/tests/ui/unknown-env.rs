#[dsops_macros::env("prodution", path = "ui/valid.yaml")]
pub struct Env;

fn main() {}
