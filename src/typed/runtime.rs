//! The process's resolver behind the typed `Env`: one [`Engine`] per
//! generated struct and options, kept for the life of the process, so that
//! every `resolve`, `watch` and token refresh shares one identity chain,
//! its token cache, the secret cache and the kept-alive connections.
//!
//! `resolve_blocking` runs on one runtime of the process too (a single
//! worker thread), so that those connections outlive each call.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use dsops_config::{Environment, LoadOptions, Source};

use super::__private::Spec;
use super::ResolveOptions;
use super::error::{Error, ErrorKind};
use crate::engine::{Engine, EngineOptions};

/// What tells two resolvers apart: the struct, the environment variables
/// read (the process's, or a given map: clones of one `ResolveOptions`
/// share it), the directory and the trace.
#[derive(PartialEq, Eq)]
struct Key {
    spec: usize,
    environment: usize,
    config_dir: PathBuf,
    debug: bool,
}

/// The engines of the process. A program makes a handful (one per struct
/// and options); each is small until used.
static ENGINES: Mutex<Vec<(Key, Engine)>> = Mutex::new(Vec::new());

/// The engine for `spec` with `options`: the one made before, or a new one
/// (the embedded configuration loaded, its `${NAME}`s read now).
pub(crate) fn engine(spec: &'static Spec, options: &ResolveOptions) -> Result<Engine, Error> {
    let environment = options.environment_or_process();
    let key = Key {
        spec: std::ptr::from_ref(spec) as usize,
        environment: options
            .environment
            .as_ref()
            .map_or(0, |e| Arc::as_ptr(e).cast::<()>() as usize),
        config_dir: options.config_dir_or_current(),
        debug: options.debug,
    };
    let mut engines = ENGINES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, engine)) = engines.iter().find(|(k, _)| *k == key) {
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
