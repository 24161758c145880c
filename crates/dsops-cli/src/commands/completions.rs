//! `dsops completions SHELL` and `dsops man`: shell completions and the
//! man page, generated from the same clap definition as the parser (so
//! they cannot drift from it), printed on stdout. The release archives
//! carry both (scripts/package-release).

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::exit;
use crate::output;

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum, value_name = "SHELL")]
    shell: Shell,
}

/// Prints the completion script for `args.shell`.
pub(crate) fn run<C: CommandFactory>(args: &CompletionsArgs) -> u8 {
    let mut command = C::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "dsops", &mut script);
    output::stdout_raw(&script);
    exit::OK
}

/// Prints the man page (roff), `dsops.1`.
pub(crate) fn man<C: CommandFactory>() -> u8 {
    let mut page = Vec::new();
    match clap_mangen::Man::new(C::command()).render(&mut page) {
        Ok(()) => {
            output::stdout_raw(&page);
            exit::OK
        }
        Err(error) => {
            output::error(&error, None);
            exit::FAILED
        }
    }
}
