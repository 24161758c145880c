//! Finding the program a command line names, as the platform's shell finds
//! it: what `dsops exec` starts, and the bash of `dsops github --run`.
//!
//! - Unix: the name is passed to `execvp` (std's `Command`), which searches
//!   `PATH` as `sh` does.
//! - Windows: std's `Command` appends only `.exe` and searches the
//!   directory of dsops itself, the current directory and the Windows
//!   directories before `PATH`, so `npm` (`npm.cmd`) is not found and `bash`
//!   may be WSL's `System32\bash.exe`. A name without a directory is looked
//!   up here instead, in each directory of `PATH` in order, with each
//!   extension of `PATHEXT` (default `.COM;.EXE;.BAT;.CMD`), as `cmd.exe`
//!   does, but not in the current directory (give `.\name` for a program
//!   there, as PowerShell asks). std runs the `.bat` or `.cmd` found through
//!   `cmd.exe`, quoting its arguments safely (or refusing them).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The program to start for `name`: on Windows, its path on `PATH` when
/// found there; otherwise `name` itself (std reports it missing).
pub(crate) fn locate(name: &OsStr) -> OsString {
    on_path(name).unwrap_or_else(|| name.to_owned())
}

/// `name` as found on `PATH`: on Windows its path, or `None` when no
/// directory of `PATH` has it (std's own search would then look in the
/// Windows directories); elsewhere `name` itself, for `execvp`'s search.
pub(crate) fn on_path(name: &OsStr) -> Option<OsString> {
    #[cfg(windows)]
    {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
        let pathext = std::env::var("PATHEXT").unwrap_or_default();
        search(name, &dirs, &pathext, |p| p.is_file()).map(PathBuf::into_os_string)
    }
    #[cfg(not(windows))]
    Some(name.to_owned())
}

/// What to say when the program cannot be found.
pub(crate) fn not_found_hint() -> &'static str {
    if cfg!(windows) {
        "check the name, or give its path; PATH is searched with each extension of PATHEXT (.COM, .EXE, .BAT, .CMD), as cmd.exe does, but not the current directory (write .\\NAME for a program there)"
    } else {
        "check the name, or give its path; PATH is searched as a shell searches it"
    }
}

/// What to say when the program exists but cannot be started.
pub(crate) fn cannot_run_hint() -> &'static str {
    if cfg!(windows) {
        "is it a program (.exe, .com) or a script cmd.exe runs (.bat, .cmd)? Other scripts need their interpreter: `dsops exec -- python script.py`"
    } else {
        "is it an executable file (`chmod +x`) with a valid `#!` line?"
    }
}

/// The extensions `PATHEXT` lists (`.COM;.EXE;.BAT;.CMD` when empty), lower-case.
fn extensions(pathext: &str) -> Vec<String> {
    let list: Vec<String> = pathext
        .split(';')
        .map(str::trim)
        .filter(|e| e.starts_with('.') && e.len() > 1)
        .map(str::to_ascii_lowercase)
        .collect();
    if list.is_empty() {
        [".com", ".exe", ".bat", ".cmd"]
            .iter()
            .map(|e| (*e).to_owned())
            .collect()
    } else {
        list
    }
}

/// Windows' search for `name` in `dirs`, with the extensions of `pathext`
/// (`exists` says whether a path is a file): `None` for a name with a
/// directory (taken as it is), or when nothing is found. A name that has
/// one of the extensions already is tried as it is first.
#[cfg_attr(not(windows), allow(dead_code))]
fn search(
    name: &OsStr,
    dirs: &[PathBuf],
    pathext: &str,
    exists: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    let text = name.to_str()?;
    if text.is_empty() || text.contains(['/', '\\', ':']) {
        return None;
    }
    let extensions = extensions(pathext);
    let lower = text.to_ascii_lowercase();
    let has_extension = extensions.iter().any(|e| lower.ends_with(e.as_str()));
    for dir in dirs.iter().filter(|d| !d.as_os_str().is_empty()) {
        if has_extension {
            let candidate = dir.join(text);
            if exists(&candidate) {
                return Some(candidate);
            }
        }
        for extension in &extensions {
            let candidate = dir.join(format!("{text}{extension}"));
            if exists(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(present: &[&str]) -> impl Fn(&Path) -> bool {
        let present: Vec<PathBuf> = present.iter().map(PathBuf::from).collect();
        move |p| present.iter().any(|f| f == p)
    }

    fn dirs(list: &[&str]) -> Vec<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn npm_is_found_as_npm_cmd_in_path_order() {
        let exists = files(&["nodejs/npm.cmd", "later/npm.exe"]);
        assert_eq!(
            search(
                OsStr::new("npm"),
                &dirs(&["tools", "nodejs", "later"]),
                "",
                &exists
            ),
            Some(PathBuf::from("nodejs/npm.cmd"))
        );
    }

    #[test]
    fn pathext_order_decides_within_a_directory() {
        let exists = files(&["bin/tool.bat", "bin/tool.exe"]);
        assert_eq!(
            search(
                OsStr::new("tool"),
                &dirs(&["bin"]),
                ".COM;.EXE;.BAT;.CMD",
                &exists
            ),
            Some(PathBuf::from("bin/tool.exe"))
        );
        assert_eq!(
            search(OsStr::new("tool"), &dirs(&["bin"]), ".BAT;.EXE", &exists),
            Some(PathBuf::from("bin/tool.bat"))
        );
    }

    #[test]
    fn a_name_with_its_extension_or_a_directory_is_kept() {
        // `deploy.cmd` is not looked for as `deploy.cmd.cmd` first.
        // With the names a search would find, were a name with a directory
        // looked for on PATH: it is not.
        let exists = files(&[
            "bin/deploy.cmd",
            "bin/deploy.cmd.cmd",
            "bin/.\\deploy",
            "bin/.\\deploy.cmd",
            "bin/C:deploy",
            "bin/C:deploy.cmd",
        ]);
        assert_eq!(
            search(OsStr::new("deploy.cmd"), &dirs(&["bin"]), "", &exists),
            Some(PathBuf::from("bin/deploy.cmd"))
        );
        assert_eq!(
            search(OsStr::new(".\\deploy"), &dirs(&["bin"]), "", &exists),
            None
        );
        assert_eq!(
            search(OsStr::new("C:deploy"), &dirs(&["bin"]), "", &exists),
            None
        );
    }

    #[test]
    fn nothing_found_and_empty_entries_are_none() {
        assert_eq!(
            search(
                OsStr::new("bash"),
                &dirs(&["", "x"]),
                "",
                files(&["bash.exe"])
            ),
            None
        );
    }

    #[test]
    fn pathext_is_read_loosely() {
        assert_eq!(extensions(" .Exe ; ;junk;.PS1"), [".exe", ".ps1"]);
        assert_eq!(extensions(""), [".com", ".exe", ".bat", ".cmd"]);
    }
}
