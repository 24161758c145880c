//! Which configuration file a command reads: `--config PATH` (or
//! `DSOPS_CONFIG`) when given; otherwise `dsops.yaml`, then `dsops.yml`, in
//! the working directory and in each parent up to the root of the
//! repository it is in (the nearest directory with a `.git`, a directory or
//! a worktree's file), as `#[dsops::env]` walks up to its workspace root.
//! Outside a repository only the working directory is looked in: a file in
//! some parent of an unrelated directory is not taken by surprise.

use std::path::{Path, PathBuf};

/// The name looked for first, and the one a missing file is reported as.
pub(crate) const FILE_NAME: &str = "dsops.yaml";

/// The names looked for in each directory, in order.
pub(crate) const FILE_NAMES: &[&str] = &[FILE_NAME, "dsops.yml"];

/// The configuration file a command reads, and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    /// The path, relative to the working directory when it was searched for
    /// (`dsops.yaml`, `../../dsops.yml`), as given otherwise.
    pub(crate) path: PathBuf,
    /// Whether it was found by walking up (not given).
    pub(crate) searched: bool,
}

impl Located {
    /// One line for `--debug`.
    pub(crate) fn describe(&self) -> String {
        if self.searched {
            format!(
                "configuration: {} (found from the working directory up)",
                self.path.display()
            )
        } else {
            format!(
                "configuration: {} (given by --config or DSOPS_CONFIG)",
                self.path.display()
            )
        }
    }
}

/// The file this run reads, for `--debug` lines.
static CHOSEN: std::sync::OnceLock<Located> = std::sync::OnceLock::new();

/// Records the file this run reads (once, by `main`).
pub(crate) fn choose(located: Located) {
    let _ = CHOSEN.set(located);
}

/// The `--debug` line naming the file this run reads.
pub(crate) fn debug_line() -> Option<String> {
    CHOSEN
        .get()
        .map(|located| format!("debug: {}\n", located.describe()))
}

/// The configuration of a command: `given`, or the one found from `cwd` up.
/// When none is found, `dsops.yaml` in `cwd` (whose read error then says
/// it is missing).
pub(crate) fn locate(given: Option<&Path>, cwd: &Path) -> Located {
    if let Some(path) = given {
        return Located {
            path: path.to_owned(),
            searched: false,
        };
    }
    let root = repository_root(cwd);
    let mut dir = cwd;
    let mut ups = 0usize;
    loop {
        for name in FILE_NAMES {
            if dir.join(name).is_file() {
                let mut path = PathBuf::new();
                for _ in 0..ups {
                    path.push("..");
                }
                path.push(name);
                return Located {
                    path,
                    searched: true,
                };
            }
        }
        let at_top = root.as_deref().is_none_or(|root| dir == root);
        match dir.parent() {
            Some(parent) if !at_top => {
                dir = parent;
                ups += 1;
            }
            _ => break,
        }
    }
    Located {
        path: PathBuf::from(FILE_NAME),
        searched: true,
    }
}

/// The nearest directory from `dir` up that holds `.git`.
fn repository_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|candidate| candidate.join(".git").exists())
        .map(Path::to_path_buf)
}
