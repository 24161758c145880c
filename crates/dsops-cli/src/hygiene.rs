//! Keeping resolved values out of core dumps and other processes' reach.
//!
//! On Linux, dsops marks itself not dumpable (`prctl(PR_SET_DUMPABLE, 0)`)
//! before it reads a value: a crash leaves no core file, and other
//! processes of the same user can neither attach a debugger nor read
//! `/proc/PID/mem` or `/proc/PID/environ`. The kernel makes a program
//! started by `exec` dumpable again, so the child is not affected.

/// Marks this process not dumpable (Linux); elsewhere nothing.
pub(crate) fn no_core_dumps() {
    #[cfg(target_os = "linux")]
    {
        // It cannot fail for a valid argument; should it, dsops still
        // works, only without this protection.
        let _ = nix::sys::prctl::set_dumpable(false);
    }
}
