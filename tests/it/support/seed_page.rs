//! The page dsops was designed from (`tests/fixtures/seed-azure-managed-identity.md`):
//! its YAML blocks, and each as a configuration `dsops check` can take.

use crate::support::harness;

#[derive(Debug)]
pub(crate) struct Example {
    pub(crate) heading: String,
    pub(crate) text: String,
}

fn page() -> String {
    std::fs::read_to_string(harness::fixtures().join("seed-azure-managed-identity.md")).unwrap()
}

/// YAML blocks with the heading they sit under, "Before/After" blocks split.
pub(crate) fn yaml_blocks() -> Vec<Example> {
    let page = page();
    let mut heading = String::new();
    let mut blocks = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        if line.starts_with('#') {
            heading = line.trim_start_matches('#').trim().to_owned();
        }
        if line.trim() == "```yaml" {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            let body = body.join("\n") + "\n";
            match body.split_once("# After:") {
                Some((before, after)) => {
                    blocks.push(Example {
                        heading: format!("{heading} (before)"),
                        text: before.to_owned(),
                    });
                    blocks.push(Example {
                        heading: format!("{heading} (after)"),
                        text: format!("# After:{after}"),
                    });
                }
                None => blocks.push(Example {
                    heading: heading.clone(),
                    text: body,
                }),
            }
        }
    }
    blocks
}

fn top_level_keys(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.starts_with([' ', '#', '-']) && !l.trim().is_empty())
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim()))
        .collect()
}

const PAGE_STORE: &str = "secretStores:\n  azure:\n    type: azure.managed_identity\n";

pub(crate) enum Kind {
    Whole,
    EnvsWithoutStores,
    Variables,
    KubernetesManifest,
}

pub(crate) fn classify(text: &str) -> Kind {
    let keys = top_level_keys(text);
    if keys.contains(&"apiVersion") && keys.contains(&"kind") {
        Kind::KubernetesManifest
    } else if keys
        .iter()
        .all(|k| ["version", "secretStores", "envs"].contains(k))
    {
        if keys.contains(&"envs") && !keys.contains(&"secretStores") {
            Kind::EnvsWithoutStores
        } else {
            Kind::Whole
        }
    } else {
        Kind::Variables
    }
}

/// The example as a configuration `dsops check` can take.
pub(crate) fn as_config(example: &Example) -> Option<String> {
    match classify(&example.text) {
        Kind::Whole => Some(example.text.clone()),
        Kind::EnvsWithoutStores => Some(format!("{PAGE_STORE}{}", example.text)),
        Kind::Variables => {
            let indented: String = example.text.lines().map(|l| format!("    {l}\n")).collect();
            Some(format!("{PAGE_STORE}envs:\n  production:\n{indented}"))
        }
        Kind::KubernetesManifest => None,
    }
}
