//! Why a fetch gave no value: the message, the identity used, the
//! service's status and code, and a hint. [`super::resolution::Problem`] is
//! made of it.

use crate::azure::arm::ArmError;

/// Why a fetch gave no value.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub(super) credential: Option<String>,
    pub(super) status: Option<u16>,
    pub(super) code: Option<String>,
    pub(super) message: String,
    pub(super) hint: Option<String>,
}

impl Failure {
    /// A failure without an HTTP answer.
    pub(super) fn plain(message: impl Into<String>, hint: Option<String>) -> Self {
        Self {
            credential: None,
            status: None,
            code: None,
            message: message.into(),
            hint,
        }
    }

    /// A Resource Manager failure.
    pub(super) fn from_arm(error: &ArmError, hint: Option<String>) -> Self {
        let message = match error {
            ArmError::Status { message, .. } => message.clone(),
            other => crate::azure::identity::chain_text(other),
        };
        Self {
            credential: None,
            status: error.status(),
            code: error.code().map(str::to_owned),
            message,
            hint,
        }
    }
}
