//! Talking to CI systems: the commands a job step writes so that the CI
//! runner masks secrets in its logs and passes values to later steps.
//!
//! GitHub Actions ([`github`]) and Azure Pipelines ([`azure_pipelines`]),
//! plus the step summary table both modes describe a run with ([`summary`]).

pub(crate) mod azure_pipelines;
pub(crate) mod export;
pub(crate) mod github;
pub(crate) mod summary;
