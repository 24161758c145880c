//! Where dsops.yaml is: a path given relative to the package, or the first
//! `dsops.yaml` from the package's directory up to its workspace root.

use std::path::{Path, PathBuf};

/// The file name looked for.
pub const FILE_NAME: &str = "dsops.yaml";

/// A configuration file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Its absolute path.
    pub path: PathBuf,
    /// How messages name it: relative to the package directory
    /// (`dsops.yaml`, `../dsops.yaml`, `config/dsops.yaml`).
    pub display: String,
}

/// Finds the configuration of the package in `manifest_dir`.
///
/// With `explicit`, that path (relative to `manifest_dir`, or absolute);
/// without, `dsops.yaml` in `manifest_dir`, then in each parent up to the
/// workspace root (the nearest directory, `manifest_dir` included, whose
/// `Cargo.toml` has a `[workspace]` table; `manifest_dir` alone when there is
/// none). The error says which paths were tried.
pub fn locate(manifest_dir: &Path, explicit: Option<&str>) -> Result<Located, String> {
    if let Some(explicit) = explicit {
        let path = manifest_dir.join(explicit);
        return if path.is_file() {
            Ok(Located {
                path,
                display: explicit.to_owned(),
            })
        } else {
            Err(format!(
                "cannot find `{explicit}`: {} is not a file (`path` is relative to the package directory, where Cargo.toml is)",
                path.display()
            ))
        };
    }
    let root = workspace_root(manifest_dir);
    let mut tried = Vec::new();
    let mut dir = manifest_dir;
    let mut ups = 0;
    loop {
        let path = dir.join(FILE_NAME);
        if path.is_file() {
            let display = if ups == 0 {
                FILE_NAME.to_owned()
            } else {
                format!("{}{FILE_NAME}", "../".repeat(ups))
            };
            return Ok(Located { path, display });
        }
        tried.push(path);
        if dir == root {
            break;
        }
        match dir.parent() {
            Some(parent) => {
                dir = parent;
                ups += 1;
            }
            None => break,
        }
    }
    let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    Err(format!(
        "cannot find {FILE_NAME}: looked for {}; put {FILE_NAME} next to Cargo.toml, or name it with `path = \"...\"`",
        list.join(", ")
    ))
}

/// The nearest directory from `dir` up whose Cargo.toml declares a workspace,
/// or `dir` itself.
fn workspace_root(dir: &Path) -> PathBuf {
    let mut current = Some(dir);
    while let Some(candidate) = current {
        if declares_workspace(&candidate.join("Cargo.toml")) {
            return candidate.to_path_buf();
        }
        current = candidate.parent();
    }
    dir.to_path_buf()
}

fn declares_workspace(manifest: &Path) -> bool {
    std::fs::read_to_string(manifest).is_ok_and(|text| {
        text.lines().any(|line| {
            let line = line.trim();
            line == "[workspace]" || line.starts_with("[workspace.")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn walks_up_to_the_workspace_root_only() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("ws");
        let member = root.join("crates/app");
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/app\"]\n",
        );
        write(&member.join("Cargo.toml"), "[package]\nname = \"app\"\n");
        // Above the workspace root: never read.
        write(&tmp.path().join(FILE_NAME), "envs: {}\n");
        let err = locate(&member, None).unwrap_err();
        assert!(
            err.contains(&member.join(FILE_NAME).display().to_string()),
            "{err}"
        );
        assert!(
            err.contains(&root.join(FILE_NAME).display().to_string()),
            "{err}"
        );
        assert_eq!(err.matches(FILE_NAME).count(), 3 + 2, "{err}");

        write(&root.join(FILE_NAME), "envs: {}\n");
        let found = locate(&member, None).unwrap();
        assert_eq!(found.path, root.join(FILE_NAME));
        assert_eq!(found.display, "../../dsops.yaml");

        write(&member.join(FILE_NAME), "envs: {}\n");
        let found = locate(&member, None).unwrap();
        assert_eq!(found.display, "dsops.yaml");
    }

    #[test]
    fn a_package_without_a_workspace_is_its_own_root() {
        let tmp = tempfile::tempdir().unwrap();
        let package = tmp.path().join("pkg");
        write(&package.join("Cargo.toml"), "[package]\nname = \"pkg\"\n");
        write(&tmp.path().join(FILE_NAME), "envs: {}\n");
        let err = locate(&package, None).unwrap_err();
        assert!(err.contains("looked for"), "{err}");
    }

    #[test]
    fn an_explicit_path_is_relative_to_the_package() {
        let tmp = tempfile::tempdir().unwrap();
        write(&tmp.path().join("config/dsops.yaml"), "envs: {}\n");
        let found = locate(tmp.path(), Some("config/dsops.yaml")).unwrap();
        assert_eq!(found.display, "config/dsops.yaml");
        let err = locate(tmp.path(), Some("nope.yaml")).unwrap_err();
        assert!(err.contains("cannot find `nope.yaml`"), "{err}");
    }
}
