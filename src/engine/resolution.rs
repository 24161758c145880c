//! What resolving an environment gave: the values, and every problem with
//! the variable, store, object, credential, status and a hint.

use std::fmt;

use secrecy::SecretString;

/// The values of an environment, and what went wrong.
pub struct Resolution {
    /// The environment.
    pub env: String,
    /// Values by variable, in file order; failed variables are absent.
    pub values: Vec<(String, SecretString)>,
    /// Every problem: errors of required variables, warnings of optional ones.
    pub problems: Vec<Problem>,
    /// The variables whose value is written in the file, whole (not
    /// secrets). A literal that `${NAME}` supplied is not one of them.
    pub literals: Vec<String>,
    /// When values stop working (access tokens, SAS), by variable.
    pub expires: Vec<(String, std::time::SystemTime)>,
}

impl fmt::Debug for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.values.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Resolution")
            .field("env", &self.env)
            .field("values", &names)
            .field("problems", &self.problems)
            .finish()
    }
}

impl Resolution {
    /// Whether a required variable failed: nothing may be handed on.
    pub fn failed(&self) -> bool {
        self.problems.iter().any(|p| !p.optional)
    }

    /// The values fetched from Azure, and literals `${NAME}` supplied (every
    /// value but the plain literals): what must be masked.
    pub fn fetched(&self) -> impl Iterator<Item = (&str, &SecretString)> {
        self.values
            .iter()
            .filter(|(name, _)| !self.literals.contains(name))
            .map(|(name, value)| (name.as_str(), value))
    }

    /// When the value of `name` stops working, if it does (a token, a SAS).
    pub fn expires(&self, name: &str) -> Option<std::time::SystemTime> {
        self.expires
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, at)| *at)
    }

    /// A value by variable name.
    pub fn value(&self, name: &str) -> Option<&SecretString> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// One variable that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The variable.
    pub variable: String,
    /// `optional: true`: a warning, the variable stays unset.
    pub optional: bool,
    /// The environment.
    pub env: String,
    /// The store.
    pub store: String,
    /// What was fetched: "secret x in `https://v.vault.azure.net`".
    pub target: String,
    /// The identity used, when one was: "managed identity via IMDS ... (object id ...)".
    pub credential: Option<String>,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// The service's error code (`SecretNotFound`, `ForbiddenByRbac`...).
    pub code: Option<String>,
    /// What went wrong (never a value or a token).
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (environment {}, store {}): {}: ",
            self.variable, self.env, self.store, self.target
        )?;
        if let Some(status) = self.status {
            write!(f, "{status}")?;
            if let Some(code) = &self.code {
                write!(f, " {code}")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)?;
        if let Some(credential) = &self.credential {
            write!(f, "\n    identity: {credential}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n    hint: {hint}")?;
        }
        Ok(())
    }
}
