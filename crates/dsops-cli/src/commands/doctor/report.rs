//! What the checks found, store by store, and whether they passed.

use std::time::SystemTime;

use dsops::identity::{Attempt, AttemptOutcome, TokenClaims};
use serde_json::Value;

use super::fixes::Fix;
use super::needs::VaultNeed;

#[derive(Debug)]
pub(super) struct Report {
    pub(super) file: String,
    pub(super) env: Option<String>,
    pub(super) warnings: usize,
    pub(super) config_json: Value,
    pub(super) stores: Vec<StoreReport>,
    pub(super) fixes: Vec<Fix>,
}

#[derive(Debug)]
pub(super) struct StoreReport {
    pub(super) name: String,
    /// The HTTP setup failed (the CA bundle), with its fix.
    pub(super) setup: Option<(String, usize)>,
    pub(super) scope: String,
    pub(super) sources: Vec<Attempt>,
    pub(super) identity_fix: Option<usize>,
    /// The identity the tokens came from is not the one configured.
    pub(super) identity_warning: Option<String>,
    pub(super) tokens: Vec<TokenCheck>,
    pub(super) vaults: Vec<VaultCheck>,
}

#[derive(Debug)]
pub(super) struct TokenCheck {
    pub(super) scope: String,
    pub(super) purposes: Vec<String>,
    pub(super) outcome: TokenOutcome,
    pub(super) fix: Option<usize>,
}

#[derive(Debug)]
pub(super) enum TokenOutcome {
    Got {
        expires_on: SystemTime,
        claims: TokenClaims,
    },
    Failed(String),
    /// No source gave the first token: not asked.
    NoIdentity,
}

#[derive(Debug)]
pub(super) struct VaultCheck {
    pub(super) need: VaultNeed,
    pub(super) ok: bool,
    /// One line: "reachable, x exists (1 version listed)", "403 Forbidden: ...".
    pub(super) summary: String,
    /// `exists`, `forbidden`, `not_found`, `unauthorized`, `unreachable`, `error`, `no_token`.
    pub(super) result: &'static str,
    pub(super) status: Option<u16>,
    pub(super) versions: Option<usize>,
    pub(super) code: Option<String>,
    pub(super) inner_code: Option<String>,
    pub(super) message: Option<String>,
    pub(super) fix: Option<usize>,
}

impl StoreReport {
    pub(super) fn winner(&self) -> Option<&Attempt> {
        self.sources
            .iter()
            .find(|a| a.outcome == AttemptOutcome::Succeeded)
    }

    fn identity_ok(&self) -> bool {
        self.setup.is_none() && self.winner().is_some()
    }

    pub(super) fn ok(&self) -> bool {
        self.identity_ok()
            && self
                .tokens
                .iter()
                .all(|t| matches!(t.outcome, TokenOutcome::Got { .. }))
            && self.vaults.iter().all(|v| v.ok)
    }

    /// (checks, failed).
    /// (checks, failed, not run because an earlier check failed).
    pub(super) fn counts(&self) -> (usize, usize, usize) {
        let checks = 1 + self.tokens.len() + self.vaults.len();
        let not_run = self
            .tokens
            .iter()
            .filter(|t| matches!(t.outcome, TokenOutcome::NoIdentity))
            .count()
            + self
                .vaults
                .iter()
                .filter(|v| v.result == "no_token")
                .count();
        let failed = usize::from(!self.identity_ok())
            + self
                .tokens
                .iter()
                .filter(|t| matches!(t.outcome, TokenOutcome::Failed(_)))
                .count()
            + self
                .vaults
                .iter()
                .filter(|v| !v.ok && v.result != "no_token")
                .count();
        (checks, failed, not_run)
    }
}

impl Report {
    pub(super) fn ok(&self) -> bool {
        self.stores.iter().all(StoreReport::ok)
    }

    pub(super) fn counts(&self) -> (usize, usize, usize) {
        self.stores
            .iter()
            .map(StoreReport::counts)
            .fold((0, 0, 0), |(c, f, n), (c2, f2, n2)| {
                (c + c2, f + f2, n + n2)
            })
    }
}
