//! One module per subcommand: its arguments (`clap`) and its `run`.

pub(crate) mod check;
pub(crate) mod completions;
#[cfg(all(feature = "emulator", unix))]
pub(crate) mod demo;
pub(crate) mod doctor;
#[cfg(feature = "emulator")]
pub(crate) mod emulator;
pub(crate) mod exec;
pub(crate) mod get;
pub(crate) mod github;
pub(crate) mod plan;
pub(crate) mod render;
pub(crate) mod schema;
