//! Generates the typed struct of environment `production` of dsops.yaml into
//! `OUT_DIR/dsops_env.rs`: the same code `#[dsops::env("production")]` makes,
//! for projects that prefer a generated file to a proc macro. Cargo runs this
//! again when dsops.yaml or a variable it reads changes.

fn main() -> Result<(), dsops_codegen::BuildError> {
    dsops_codegen::Builder::new("production")
        .config("dsops.yaml")
        .visibility("pub(crate)")
        .attribute("#[derive(Clone)]")
        .generate()?;
    Ok(())
}
