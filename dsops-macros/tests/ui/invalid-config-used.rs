// A rejected configuration: the struct still has every method the
// generated one has, so the configuration's error is the only error, not a
// second one at each use. (`crate = stand_in` stands for the `dsops` crate,
// which this test project does not depend on.)
mod stand_in {
    #[derive(Debug)]
    pub struct Error;
    pub struct ResolveOptions;
    impl ResolveOptions {
        pub fn new() -> Self {
            ResolveOptions
        }
    }
}

#[dsops_macros::env("production", path = "ui/invalid.yaml", crate = crate::stand_in)]
pub struct Env;

async fn later() -> Result<Env, stand_in::Error> {
    Env::resolve_with(stand_in::ResolveOptions::new()).await?;
    Env::resolve().await
}

fn main() -> Result<(), stand_in::Error> {
    let env = Env::resolve_blocking()?;
    let _ = Env::from_env()?;
    let _ = Env::for_tests([("API_KEY", "x")])?;
    let _ = later();
    println!("{} {env:?}", Env::ENVIRONMENT);
    Ok(())
}
