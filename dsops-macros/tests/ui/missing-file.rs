#[dsops_macros::env("production")]
pub struct Env;

fn main() {}
