//! Talking to CI systems: the commands a job step writes so that the CI
//! runner masks secrets in its logs and passes values to later steps.
//!
//! Only GitHub Actions for now ([`github`]).

pub mod github;
