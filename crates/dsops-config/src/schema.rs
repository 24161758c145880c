//! The JSON Schema of `dsops.yaml`, for editors (yaml-language-server) and tools.

/// The schema document (JSON Schema draft 7, which yaml-language-server supports best).
pub const JSON_SCHEMA: &str = include_str!("../schema/dsops.schema.json");
