//! `dsops exec --files`: each value in a file of its own, in a new private
//! directory that lives as long as the command (as `sops exec-file` and
//! `doppler run --mount` hand values over): for certificates and other
//! values that are awkward in environment variables.
//!
//! The directory is created mode 0700 with a name no one else had, in
//! `$XDG_RUNTIME_DIR` (a per-user tmpfs on systemd machines), else
//! `/dev/shm` (a tmpfs on Linux), else the system's temporary directory;
//! each file is created new, mode 0600, and named after its variable (a
//! valid environment variable name, so a valid file name). The directory is
//! removed, files and all, when [`ValueFiles`] is dropped: after the command
//! exits, also when it was ended by a signal that dsops passed on to it.
//! Only a SIGKILL of dsops itself leaves it behind (no process can clean up
//! after that); on a tmpfs it then goes with the next reboot.

use std::io::Write;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use crate::private_fs;

/// The variable that names the directory in the command's environment.
pub(crate) const VARIABLE: &str = "DSOPS_FILES";

/// Why the files could not be written (nothing is left behind then).
#[derive(Debug, thiserror::Error)]
pub(crate) enum FilesError {
    /// No private directory could be created.
    #[error("cannot create a private directory for the values in {parent}")]
    Directory {
        /// Where it was tried.
        parent: String,
        #[source]
        source: std::io::Error,
    },
    /// A value's file could not be written.
    #[error("cannot write the file of {variable} in {dir}")]
    File {
        /// The variable.
        variable: String,
        /// The directory.
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

/// A private directory of value files, removed when dropped.
#[derive(Debug)]
pub(crate) struct ValueFiles {
    dir: PathBuf,
}

impl ValueFiles {
    /// Writes each value to `DIR/NAME` in a new private directory.
    pub(crate) fn write(values: &[(String, SecretString)]) -> Result<Self, FilesError> {
        let parent = parent_dir();
        let dir = create_private_dir(&parent).map_err(|source| FilesError::Directory {
            parent: parent.display().to_string(),
            source,
        })?;
        // From here on, dropping `files` removes what was written.
        let files = Self { dir };
        for (name, value) in values {
            write_private(&files.dir.join(name), value).map_err(|source| FilesError::File {
                variable: name.clone(),
                dir: files.dir.display().to_string(),
                source,
            })?;
        }
        Ok(files)
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for ValueFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `$XDG_RUNTIME_DIR`, else `/dev/shm`, else the temporary directory.
fn parent_dir() -> PathBuf {
    let usable = |path: &Path| path.is_absolute() && path.is_dir();
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from)
        && usable(&runtime)
    {
        return runtime;
    }
    let shm = Path::new("/dev/shm");
    if cfg!(target_os = "linux") && usable(shm) {
        return shm.to_owned();
    }
    std::env::temp_dir()
}

/// A new directory `dsops-files-PID-N` in `parent`, mode 0700, that did not
/// exist before.
fn create_private_dir(parent: &Path) -> std::io::Result<PathBuf> {
    private_fs::create_unique(
        |tag| parent.join(format!("dsops-files-{tag}")),
        |dir| private_fs::dir_builder().create(dir),
    )
    .map(|(dir, ())| dir)
}

/// A new file at `path`, mode 0600, holding `value` exactly.
fn write_private(path: &Path, value: &SecretString) -> std::io::Result<()> {
    let mut file = private_fs::file_options().open(path)?;
    file.write_all(value.expose_secret().as_bytes())?;
    file.flush()
}

/// `{}` in each argument replaced by the directory, as `sops exec-file`
/// substitutes its file (an argument that is not UTF-8 is left as it is).
pub(crate) fn substitute(arguments: &[std::ffi::OsString], dir: &Path) -> Vec<std::ffi::OsString> {
    let dir = dir.to_string_lossy();
    arguments
        .iter()
        .map(|argument| match argument.to_str() {
            Some(text) if text.contains("{}") => text.replace("{}", &dir).into(),
            _ => argument.clone(),
        })
        .collect()
}
