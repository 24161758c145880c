//! Why a typed `Env` could not be made: every field that failed, not just
//! the first.

use std::fmt;

/// Why `resolve`, `resolve_blocking`, `from_env` or `for_tests` failed.
///
/// `Display` lists every failed field with the variable, the store, what was
/// fetched, the status, the identity used and a hint; never a value or a token.
#[derive(Debug)]
pub struct Error {
    struct_name: &'static str,
    env: &'static str,
    total: usize,
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration compiled into the program could not be used at run
    /// time (a `${NAME}` it reads is unset, or its value is not valid); one
    /// message per problem.
    Config(Vec<String>),
    /// Fields whose value could not be had, every one of them.
    Fields(Vec<FieldError>),
    /// `resolve_blocking` was called on a thread that runs an async runtime,
    /// where blocking would stall it: use `resolve().await` there.
    InsideAsyncRuntime,
    /// `resolve` was awaited outside a Tokio runtime, which it needs to fetch
    /// in parallel: use `resolve_blocking` there, or run it in Tokio.
    OutsideTokio,
    /// The async runtime of `resolve_blocking` could not start.
    Runtime(String),
}

/// One field that could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field (`database_password`).
    pub field: &'static str,
    /// Its variable in dsops.yaml (`DATABASE_PASSWORD`).
    pub variable: &'static str,
    /// Why: the store, what was fetched, the status, the identity and a hint
    /// (never the value).
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ({}): {}", self.field, self.variable, self.message)
    }
}

impl Error {
    pub(crate) fn new(
        struct_name: &'static str,
        env: &'static str,
        total: usize,
        kind: ErrorKind,
    ) -> Self {
        Self {
            struct_name,
            env,
            total,
            kind,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The fields that failed (empty for the other kinds of error).
    pub fn fields(&self) -> &[FieldError] {
        match &self.kind {
            ErrorKind::Fields(fields) => fields,
            _ => &[],
        }
    }

    /// The environment of dsops.yaml the struct was generated for.
    pub fn env(&self) -> &str {
        self.env
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, env) = (self.struct_name, self.env);
        match &self.kind {
            ErrorKind::Config(problems) => {
                write!(
                    f,
                    "{name}: the configuration of environment `{env}` cannot be used here:"
                )?;
                for problem in problems {
                    write!(f, "\n  - {}", indent(problem))?;
                }
                Ok(())
            }
            ErrorKind::Fields(fields) => {
                write!(
                    f,
                    "{name}: {} of {} {} of environment `{env}` failed:",
                    fields.len(),
                    self.total,
                    if self.total == 1 { "field" } else { "fields" },
                )?;
                for field in fields {
                    write!(f, "\n  - {}", indent(&field.to_string()))?;
                }
                Ok(())
            }
            ErrorKind::InsideAsyncRuntime => write!(
                f,
                "{name}::resolve_blocking was called inside an async runtime, which it would \
                 stall; call `{name}::resolve().await` there instead"
            ),
            ErrorKind::OutsideTokio => write!(
                f,
                "{name}::resolve needs a Tokio runtime (`#[tokio::main]`); outside one, call \
                 `{name}::resolve_blocking()`"
            ),
            ErrorKind::Runtime(why) => write!(
                f,
                "{name}::resolve_blocking could not start its async runtime: {why}"
            ),
        }
    }
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n    ")
}

impl std::error::Error for Error {}
