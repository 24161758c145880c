//! Everything a CI step writes to hand resolved values on, prepared before
//! anything is written: the mask commands (printed first), the commands or
//! file entries that export the values, and every reason to refuse.
//!
//! [`prepare`] either gives the whole [`Writes`] or every error; a caller
//! that writes only on `Ok` writes all or nothing.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use super::azure_pipelines::{self, Percents};
use super::github::{self, FileCommandError, FileKind};

/// The CI system a step runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ci {
    /// GitHub Actions: `::add-mask::`, `GITHUB_ENV`, `GITHUB_OUTPUT`.
    GitHub,
    /// Azure Pipelines: `##vso[task.setsecret]`, `##vso[task.setvariable]`.
    AzurePipelines(Percents),
}

/// Where values go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportTo {
    /// The environment of the job's later steps.
    pub env: bool,
    /// Outputs of this step.
    pub outputs: bool,
}

/// One resolved variable.
#[derive(Debug)]
pub struct Variable<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its value.
    pub value: &'a SecretString,
    /// Fetched from Azure (masked), as opposed to written in dsops.yaml.
    pub secret: bool,
    /// Whether the job allows this name to reach the job's environment
    /// although it changes how later steps or programs start
    /// ([`dsops_config::names::startup_variable`]) or is the runner's own
    /// (`GITHUB_`, `RUNNER_`, `ACTIONS_`): an explicit opt-in per name, from
    /// outside dsops.yaml (which a pull request can change).
    pub allowed: bool,
}

/// The text of a heredoc delimiter: a value holding it is an attempt to
/// end an entry early and write variables of its own.
const DELIMITER_PREFIX: &str = "ghadelimiter_";

/// Why a variable cannot be handed on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    /// A GitHub file command would be wrong or unsafe.
    #[error(transparent)]
    FileCommand(#[from] FileCommandError),
    /// An Azure Pipelines command would be read back changed.
    #[error(transparent)]
    AzurePipelines(#[from] azure_pipelines::CommandError),
    /// The value holds `ghadelimiter_`, the start of the runner's heredoc
    /// delimiters.
    #[error(
        "the value of {0} contains `ghadelimiter_`: it looks like an attempt to inject variables into the job, and is refused"
    )]
    Injection(String),
    /// A name that changes how later steps or programs start, or that the
    /// runner sets and trusts, and that the job did not allow.
    #[error("{name} is not exported to the job's environment: {why}")]
    StartupName {
        /// The variable.
        name: String,
        /// Why the name is dangerous.
        why: &'static str,
    },
    /// A secret too short to be masked must not become a step output.
    #[error("{0} is a secret shorter than {min} characters: the runner cannot mask it, so it is not written to the step outputs", min = github::MIN_MASK_LEN)]
    TooShortForOutput(String),
}

impl ExportError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ExportError::FileCommand(_) | ExportError::AzurePipelines(_) => {
                "rename the variable in dsops.yaml, or store the value in another form (base64, say)"
            }
            ExportError::Injection(_) => {
                "check who can write this secret; a real secret never contains `ghadelimiter_`"
            }
            ExportError::StartupName { .. } => {
                "rename the variable in dsops.yaml; if the job means to set it, allow it by name with `--allow-name NAME` (the action's `allow-names`)"
            }
            ExportError::TooShortForOutput(_) => {
                "export it to the job environment only (`export: env`), or make the secret longer"
            }
        }
    }
}

/// What to write, in order: `masks` on stdout (flushed) before anything
/// else, then `commands` on stdout, then the file entries.
pub struct Writes {
    /// Mask commands, one per line.
    pub masks: SecretString,
    /// Export commands (Azure Pipelines), one per line.
    pub commands: SecretString,
    /// Entries to append to `GITHUB_ENV`.
    pub env_file: SecretString,
    /// Entries to append to `GITHUB_OUTPUT` (at least `count`, on GitHub).
    pub output_file: SecretString,
    /// Secrets too short to be masked (they will show in logs).
    pub unmasked: Vec<String>,
    /// How many variables were exported.
    pub exported: usize,
}

impl fmt::Debug for Writes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writes")
            .field("unmasked", &self.unmasked)
            .field("exported", &self.exported)
            .finish_non_exhaustive()
    }
}

/// Prepares the writes that mask `variables` and export them to `to`.
/// Every secret is masked, exported or not: the step's own later output
/// (a `run` script) may print it.
pub fn prepare(
    ci: Ci,
    variables: &[Variable<'_>],
    to: ExportTo,
) -> Result<Writes, Vec<ExportError>> {
    let mut masks = String::new();
    let mut commands = String::new();
    let mut env_file = String::new();
    let mut output_file = String::new();
    let mut unmasked = Vec::new();
    let mut errors = Vec::new();
    let exported = if to.env || to.outputs {
        variables.len()
    } else {
        0
    };
    let delimiter = match ci {
        Ci::GitHub if to.env || to.outputs => match github::new_delimiter() {
            Ok(delimiter) => delimiter,
            Err(error) => return Err(vec![error.into()]),
        },
        _ => String::new(),
    };
    let mut outputs_json = serde_json::Map::new();
    for variable in variables {
        let name = variable.name;
        let value = variable.value.expose_secret();
        if to.env && !variable.allowed {
            let why = dsops_config::names::startup_variable(name).or_else(|| {
                dsops_config::names::ci_reserved(name)
                    .then_some("the runner sets and trusts the variables of its namespace")
            });
            if let Some(why) = why {
                errors.push(ExportError::StartupName {
                    name: name.to_owned(),
                    why,
                });
            }
        }
        if variable.secret {
            let lines = match ci {
                Ci::GitHub => github::add_mask_lines(value),
                Ci::AzurePipelines(percents) => azure_pipelines::set_secret_lines(value, percents),
            };
            if lines.is_empty() && !value.is_empty() {
                unmasked.push(name.to_owned());
                if to.outputs {
                    errors.push(ExportError::TooShortForOutput(name.to_owned()));
                }
            }
            for line in lines {
                masks.push_str(&line);
                masks.push('\n');
            }
        }
        match ci {
            Ci::GitHub => {
                if (to.env || to.outputs) && value.contains(DELIMITER_PREFIX) {
                    errors.push(ExportError::Injection(name.to_owned()));
                    continue;
                }
                for (wanted, kind, file) in [
                    (to.env, FileKind::Env, &mut env_file),
                    (to.outputs, FileKind::Output, &mut output_file),
                ] {
                    if wanted {
                        match github::file_command_entry(kind, name, value, &delimiter) {
                            Ok(entry) => file.push_str(&entry),
                            Err(error) => errors.push(error.into()),
                        }
                    }
                }
                if to.outputs {
                    outputs_json.insert(name.to_owned(), value.into());
                }
            }
            Ci::AzurePipelines(percents) => {
                for (wanted, is_output) in [(to.env, false), (to.outputs, true)] {
                    if wanted {
                        match azure_pipelines::set_variable_line(name, value, is_output, percents) {
                            Ok(line) => {
                                commands.push_str(&line);
                                commands.push('\n');
                            }
                            Err(error) => errors.push(error.into()),
                        }
                    }
                }
            }
        }
    }
    if ci == Ci::GitHub && to.outputs && errors.is_empty() {
        // Every value in it was checked above; the JSON escapes are not
        // delimiters either.
        let json = serde_json::Value::Object(outputs_json).to_string();
        match github::file_command_entry(FileKind::Output, "values", &json, &delimiter) {
            Ok(entry) => output_file.push_str(&entry),
            Err(error) => errors.push(error.into()),
        }
    }
    if ci == Ci::GitHub {
        // Not a secret: an output whatever `to` says.
        output_file.push_str(&format!("count={exported}{}", github::RunnerOs::HOST.eol()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Writes {
        masks: masks.into(),
        commands: commands.into(),
        env_file: env_file.into(),
        output_file: output_file.into(),
        unmasked,
        exported,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use crate::output::ci::github::{parse_file_commands, unescape_data};

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn masks_every_secret_and_exports_to_both_files() {
        let (db, info, multi) = (
            secret("hunter2-canary"),
            secret("on"),
            secret("line one\nline two"),
        );
        let variables = [
            Variable {
                name: "DB",
                value: &db,
                secret: true,
                allowed: false,
            },
            Variable {
                name: "INFO",
                value: &info,
                secret: false,
                allowed: false,
            },
            Variable {
                name: "CERT",
                value: &multi,
                secret: true,
                allowed: false,
            },
        ];
        let to = ExportTo {
            env: true,
            outputs: true,
        };
        let writes = prepare(Ci::GitHub, &variables, to).unwrap();
        let masks: Vec<String> = writes
            .masks
            .expose_secret()
            .lines()
            .map(|l| unescape_data(l.strip_prefix("::add-mask::").unwrap()))
            .collect();
        assert_eq!(
            masks,
            [
                "hunter2-canary",
                "line one\nline two",
                "line one",
                "line two"
            ]
        );
        let env = parse_file_commands(writes.env_file.expose_secret()).unwrap();
        assert_eq!(
            env,
            [
                ("DB".to_owned(), "hunter2-canary".to_owned()),
                ("INFO".to_owned(), "on".to_owned()),
                ("CERT".to_owned(), "line one\nline two".to_owned()),
            ]
        );
        let outputs = parse_file_commands(writes.output_file.expose_secret()).unwrap();
        let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["DB", "INFO", "CERT", "values", "count"]);
        let json: serde_json::Value = serde_json::from_str(&outputs[3].1).unwrap();
        assert_eq!(json["CERT"], "line one\nline two");
        assert_eq!(outputs[4].1, "3");
        assert!(!format!("{writes:?}").contains("hunter2"));
    }

    #[test]
    fn names_that_change_how_programs_start_are_refused_unless_allowed() {
        let value = secret("/tmp/evil");
        for name in [
            "PATH",
            "LD_PRELOAD",
            "BASH_ENV",
            "ENV",
            "GITHUB_ENV",
            "GITHUB_PATH",
            "RUNNER_TEMP",
            "ACTIONS_RUNTIME_TOKEN",
            "JAVA_TOOL_OPTIONS",
            "PERL5OPT",
            "PROMPT_COMMAND",
            "GIT_SSH_COMMAND",
            "path",
            "LD_AUDIT",
            "GIT_CONFIG_COUNT",
        ] {
            let variable = |allowed| Variable {
                name,
                value: &value,
                secret: true,
                allowed,
            };
            let env = ExportTo {
                env: true,
                outputs: false,
            };
            let errors = prepare(Ci::GitHub, &[variable(false)], env).unwrap_err();
            assert!(
                matches!(&errors[..], [ExportError::StartupName { name: n, .. }] if n == name),
                "{name}: {errors:?}"
            );
            assert!(
                prepare(
                    Ci::AzurePipelines(Percents::Decoded),
                    &[variable(false)],
                    env
                )
                .is_err()
            );
            assert!(
                prepare(Ci::GitHub, &[variable(true)], env).is_ok(),
                "{name}"
            );
            // A step output does not reach the environment of later steps.
            let outputs = ExportTo {
                env: false,
                outputs: true,
            };
            assert!(
                prepare(Ci::GitHub, &[variable(false)], outputs).is_ok(),
                "{name}"
            );
        }
    }

    #[test]
    fn short_secrets_warn_for_env_and_are_refused_for_outputs() {
        let pin = secret("123");
        let variables = [Variable {
            name: "PIN",
            value: &pin,
            secret: true,
            allowed: false,
        }];
        let env_only = ExportTo {
            env: true,
            outputs: false,
        };
        let writes = prepare(Ci::GitHub, &variables, env_only).unwrap();
        assert_eq!(writes.unmasked, ["PIN"]);
        assert_eq!(writes.masks.expose_secret(), "");
        let both = ExportTo {
            env: true,
            outputs: true,
        };
        let errors = prepare(Ci::GitHub, &variables, both).unwrap_err();
        assert_eq!(errors, [ExportError::TooShortForOutput("PIN".into())]);
    }

    #[test]
    fn values_holding_a_delimiter_are_refused() {
        let evil = secret("x\nghadelimiter_00000000-0000-4000-8000-000000000000\nEVIL=1");
        let fine = secret("fine-value");
        let variables = [
            Variable {
                name: "OK",
                value: &fine,
                secret: true,
                allowed: false,
            },
            Variable {
                name: "EVIL",
                value: &evil,
                secret: true,
                allowed: false,
            },
        ];
        let to = ExportTo {
            env: true,
            outputs: false,
        };
        let errors = prepare(Ci::GitHub, &variables, to).unwrap_err();
        assert_eq!(errors, [ExportError::Injection("EVIL".into())]);
        // Nothing to write when nothing is exported: only masks.
        let none = prepare(Ci::GitHub, &variables, ExportTo::default()).unwrap();
        assert_eq!(none.exported, 0);
        assert_eq!(none.env_file.expose_secret(), "");
        assert_eq!(none.output_file.expose_secret(), "count=0\n");
    }

    #[test]
    fn azure_pipelines_sets_secret_variables() {
        let db = secret("p;a]s%s\nword");
        let variables = [Variable {
            name: "DB",
            value: &db,
            secret: true,
            allowed: false,
        }];
        let to = ExportTo {
            env: true,
            outputs: true,
        };
        let writes = prepare(Ci::AzurePipelines(Percents::Decoded), &variables, to).unwrap();
        assert_eq!(
            writes.masks.expose_secret(),
            "##vso[task.setsecret]p;a]s%AZP25s%0Aword\n##vso[task.setsecret]p;a]s%AZP25s\n##vso[task.setsecret]word\n"
        );
        assert_eq!(
            writes.commands.expose_secret(),
            "##vso[task.setvariable variable=DB;issecret=true]p;a]s%AZP25s%0Aword\n\
             ##vso[task.setvariable variable=DB;issecret=true;isoutput=true]p;a]s%AZP25s%0Aword\n"
        );
        assert_eq!(writes.env_file.expose_secret(), "");
    }
}
