//! What resolved values become on their way out: the file formats
//! (`format`), templates filled with them (`template`), the redactor that masks them in a program's output
//! (`redact`), and the commands a CI step writes to mask and pass them on
//! (`ci`).

pub(crate) mod ci;
pub(crate) mod format;
pub(crate) mod redact;
pub(crate) mod template;
