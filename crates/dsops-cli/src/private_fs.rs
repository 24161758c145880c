//! Files and directories that only this user can open, created new under a
//! name no one else had: the temporary file `render` writes beside its
//! target, the directory `exec --files` hands over, the demo's directory
//! and the unnamed file that holds stderr in `dsops github`. Creation never
//! follows or reuses something already there (`create_new`, `mkdir`), so a
//! name planted by another user fails the attempt instead of receiving a
//! value.

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Options that create a new file, mode 0600 on Unix, for writing.
pub(crate) fn file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// A builder of a new directory, mode 0700 on Unix.
pub(crate) fn dir_builder() -> DirBuilder {
    let mut builder = DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
}

/// `create` at the path `name` makes of a unique tag (the process id, the
/// clock's nanoseconds and the attempt), again under a new tag while the
/// path already exists, up to 100 times.
pub(crate) fn create_unique<T>(
    name: impl Fn(&str) -> PathBuf,
    create: impl Fn(&Path) -> io::Result<T>,
) -> io::Result<(PathBuf, T)> {
    let pid = std::process::id();
    let mut last = None;
    for attempt in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = name(&format!("{pid}-{nanos:x}{attempt}"));
        match create(&path) {
            Ok(made) => return Ok((path, made)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_is_never_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let planted = dir.path().join("planted");
        std::fs::write(&planted, "someone else's").expect("plant");
        // Every attempt gets a new tag; one that keeps naming the planted
        // file runs out of attempts instead of opening it.
        let error = create_unique(|_| planted.clone(), |p| file_options().open(p)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            std::fs::read_to_string(&planted).expect("read"),
            "someone else's"
        );
        let (path, _) = create_unique(
            |tag| dir.path().join(format!("x-{tag}")),
            |p| dir_builder().create(p),
        )
        .expect("a directory");
        assert!(path.is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
