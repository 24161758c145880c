//! The process's resolver behind the typed `Env`: one [`Engine`] per
//! generated struct and options, kept for the life of the process, so that
//! every `resolve`, `watch` and token refresh shares one identity chain,
//! its token cache, the secret cache and the kept-alive connections.
//!
//! `resolve_blocking` runs on one runtime of the process too (a single
//! worker thread), so that those connections outlive each call.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use dsops_config::{Environment, LoadOptions, Source};

use super::__private::Spec;
use super::ResolveOptions;
use super::error::{Error, ErrorKind};
use crate::engine::{Engine, EngineOptions};

/// What tells two resolvers apart: the struct, the environment variables
/// read (the process's, or a given map: clones of one `ResolveOptions`
/// share it), the directory and the trace.
struct Key {
    spec: usize,
    /// For a given map, the options that hold it, held weakly: its engine
    /// goes when the last of them does, and later options at the same
    /// address are never taken for them.
    holders: Option<Weak<()>>,
    config_dir: PathBuf,
    debug: bool,
}

impl Key {
    fn is(&self, other: &Key) -> bool {
        self.spec == other.spec
            && self.config_dir == other.config_dir
            && self.debug == other.debug
            && match (&self.holders, &other.holders) {
                (None, None) => true,
                (Some(a), Some(b)) => a.ptr_eq(b) && a.strong_count() > 0,
                _ => false,
            }
    }

    /// Whether the options it was made for are gone (the engine can never
    /// be asked for again).
    fn is_stale(&self) -> bool {
        self.holders
            .as_ref()
            .is_some_and(|holders| holders.strong_count() == 0)
    }
}

/// The engines of the process: one per struct and options still held. A
/// program makes a handful; each is small until used.
static ENGINES: Mutex<Vec<(Key, Engine)>> = Mutex::new(Vec::new());

/// The engine for `spec` with `options`: the one made before, or a new one
/// (the embedded configuration loaded, its `${NAME}`s read now). Engines of
/// environment maps no longer held are dropped here.
pub(crate) fn engine(spec: &'static Spec, options: &ResolveOptions) -> Result<Engine, Error> {
    let environment = options.environment_or_process();
    let key = Key {
        spec: std::ptr::from_ref(spec) as usize,
        holders: options.holders.as_ref().map(Arc::downgrade),
        config_dir: options.config_dir_or_current(),
        debug: options.debug,
    };
    let mut engines = ENGINES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    engines.retain(|(k, _)| !k.is_stale());
    if let Some((_, engine)) = engines.iter().find(|(k, _)| k.is(&key)) {
        return Ok(engine.clone());
    }
    let config = load(spec, &*environment)?;
    let engine = Engine::new(
        config,
        key.config_dir.clone(),
        environment,
        EngineOptions {
            debug: options.debug,
            progress: None,
        },
    );
    engines.push((key, engine.clone()));
    Ok(engine)
}

fn load(
    spec: &'static Spec,
    environment: &dyn Environment,
) -> Result<dsops_config::model::Config, Error> {
    let loaded = dsops_config::load(
        Source::new("dsops.yaml", spec.config),
        environment,
        LoadOptions::resolve(),
    );
    match loaded.config() {
        Some(config) if !loaded.has_errors() => Ok(config.clone()),
        _ => {
            let problems = loaded
                .diagnostics()
                .iter()
                .filter(|d| d.is_error())
                .map(|d| match &d.hint {
                    Some(hint) => format!("{} ({hint})", d.message),
                    None => d.message.clone(),
                })
                .collect();
            Err(spec.error(ErrorKind::Config(problems)))
        }
    }
}

/// The runtime `resolve_blocking` runs on, started on first use.
pub(crate) fn blocking_runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("dsops-env")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::typed::__private::{Field, Kind};

    static SPEC: Spec = Spec {
        name: "Env",
        env: "dev",
        config: r#"{"secretStores":{},"envs":{"dev":{"LEVEL":"${LEVEL:-info}"}}}"#,
        fields: &[Field {
            variable: "LEVEL",
            field: "level",
            kind: Kind::Literal,
            optional: false,
        }],
    };

    /// The engines held for [`SPEC`] (other tests hold theirs).
    fn held() -> usize {
        ENGINES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(k, _)| k.spec == std::ptr::from_ref(&SPEC) as usize)
            .count()
    }

    fn map(level: &str) -> ResolveOptions {
        let map: HashMap<String, String> = [("LEVEL".to_owned(), level.to_owned())].into();
        ResolveOptions::new().environment(map)
    }

    #[test]
    fn options_share_an_engine_while_held_and_free_it_after() {
        let options = map("debug");
        let first = engine(&SPEC, &options).unwrap();
        let again = engine(&SPEC, &options.clone()).unwrap();
        assert!(first.same_as(&again), "clones of options share the engine");
        assert_eq!(held(), 1);
        // Options made anew, one after the other: never more than the live
        // ones are held, and each gets the map it was given.
        drop((first, again, options));
        for i in 0..50 {
            let options = map(&format!("level-{i}"));
            let engine = engine(&SPEC, &options).unwrap();
            let plan = engine.plan("dev").unwrap();
            let crate::engine::PlannedSource::Literal(value) = &plan.variables[0].source else {
                panic!("a literal");
            };
            assert_eq!(
                secrecy::ExposeSecret::expose_secret(value),
                format!("level-{i}")
            );
            assert!(held() <= 2, "{} engines held", held());
        }
    }
}
