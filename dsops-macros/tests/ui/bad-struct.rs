#[dsops_macros::env("production", path = "ui/valid.yaml")]
pub struct WithFields {
    pub api_key: String,
}

#[dsops_macros::env("production", path = "ui/valid.yaml")]
#[derive(Clone, Debug)]
pub struct DerivesDebug;

#[dsops_macros::env("production", path = "ui/valid.yaml")]
pub enum NotAStruct {}

fn main() {}
