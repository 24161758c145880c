#[dsops_macros::env]
pub struct NoEnvironment;

#[dsops_macros::env(production)]
pub struct NotAString;

#[dsops_macros::env("production", pth = "ui/valid.yaml")]
pub struct UnknownArgument;

fn main() {}
