#[dsops_macros::env("production", path = "ui/colliding.yaml")]
pub struct Env;

fn main() {}
