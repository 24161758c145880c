//! `dsops schema`.

use crate::exit;
use crate::output;

pub(crate) fn run() -> u8 {
    output::stdout(dsops::config::schema::JSON_SCHEMA);
    if !dsops::config::schema::JSON_SCHEMA.ends_with('\n') {
        output::stdout("\n");
    }
    exit::OK
}
