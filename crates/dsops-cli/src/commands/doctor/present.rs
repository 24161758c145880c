//! Output: the report as coloured tables for people, or as JSON.

use std::time::{Duration, SystemTime};

use dsops::identity::{AttemptOutcome, TokenClaims};
use serde_json::{Value, json};

use super::fixes::object_word;
use super::report::{Report, StoreReport, TokenOutcome};

// The report is drawn with a private-use character where the colours' ESC
// goes, made inert as a whole (the server's text in it is data), and only
// then given its colours: no escape sequence of a server's reaches the
// terminal.
const MARK: char = '\u{E000}';
const GREEN: &str = "\u{E000}[32m";
const RED: &str = "\u{E000}[31m";
const YELLOW: &str = "\u{E000}[33m";
const DIM: &str = "\u{E000}[2m";
const BOLD: &str = "\u{E000}[1m";
const RESET: &str = "\u{E000}[0m";

/// `text` (drawn with the colour marks) made inert, then coloured.
fn coloured(text: &str) -> String {
    let mut out = dsops::config::report::neutralize(text).into_owned();
    for colour in [GREEN, RED, YELLOW, DIM, BOLD, RESET] {
        out = out.replace(colour, &colour.replace(MARK, "\x1b"));
    }
    out.replace(MARK, "?")
}

fn paint(text: &str, colour: &str) -> String {
    format!("{colour}{text}{RESET}")
}

/// Rows of cells, each column but the last padded to its widest cell.
fn table(rows: &[Vec<(String, Option<&'static str>)>], indent: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|row| row.get(c))
                .map(|(text, _)| text.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = indent.to_owned();
        for (c, (text, colour)) in row.iter().enumerate() {
            let last = c + 1 == row.len();
            let padded = if last {
                text.clone()
            } else {
                let width = widths.get(c).copied().unwrap_or(0);
                format!("{text:<width$}  ")
            };
            match colour {
                Some(colour) => {
                    // Colour the text, not the padding.
                    let trimmed = padded.trim_end();
                    line.push_str(&paint(trimmed, colour));
                    line.push_str(&padded[trimmed.len()..]);
                }
                None => line.push_str(&padded),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn cell(text: impl Into<String>) -> (String, Option<&'static str>) {
    (text.into(), None)
}

fn status_cell(ok: bool) -> (String, Option<&'static str>) {
    if ok {
        ("ok".to_owned(), Some(GREEN))
    } else {
        ("FAILED".to_owned(), Some(RED))
    }
}

fn not_run_cell() -> (String, Option<&'static str>) {
    ("not run".to_owned(), Some(YELLOW))
}

fn fix_ref(fix: Option<usize>) -> String {
    fix.map(|i| format!(" (fix {})", i + 1)).unwrap_or_default()
}

/// "expires in 59 min", "expired 2 min ago".
fn relative(expires_on: SystemTime) -> String {
    let now = SystemTime::now();
    let (future, span) = match expires_on.duration_since(now) {
        Ok(left) => (true, left),
        Err(past) => (false, past.duration()),
    };
    let text = duration_text(span);
    if future {
        format!("expires in {text}")
    } else {
        format!("expired {text} ago")
    }
}

fn duration_text(span: Duration) -> String {
    let seconds = span.as_secs();
    if seconds < 120 {
        format!("{seconds} s")
    } else if seconds < 2 * 3600 {
        format!("{} min", seconds / 60)
    } else {
        format!("{} h {} min", seconds / 3600, seconds % 3600 / 60)
    }
}

fn epoch(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn outcome_name(outcome: &AttemptOutcome) -> (&'static str, Option<&str>) {
    match outcome {
        AttemptOutcome::Succeeded => ("won", None),
        AttemptOutcome::Skipped(why) => ("skipped", Some(why)),
        AttemptOutcome::Failed(why) => ("failed", Some(why)),
        AttemptOutcome::NotTried => ("not tried", None),
    }
}

impl StoreReport {
    fn human(&self, out: &mut String) {
        out.push_str(&format!(
            "\n{}\n",
            paint(&format!("store {}", self.name), BOLD)
        ));
        if let Some((problem, fix)) = &self.setup {
            out.push_str(&format!(
                "  {}  {problem}{}\n",
                paint("FAILED", RED),
                fix_ref(Some(*fix))
            ));
            return;
        }
        out.push_str(&format!(
            "  identity (each source in order, for {}):\n",
            self.scope
        ));
        let rows: Vec<_> = self
            .sources
            .iter()
            .map(|a| {
                let (name, why) = outcome_name(&a.outcome);
                let colour = match a.outcome {
                    AttemptOutcome::Succeeded => GREEN,
                    AttemptOutcome::Failed(_) => RED,
                    AttemptOutcome::Skipped(_) => YELLOW,
                    AttemptOutcome::NotTried => DIM,
                };
                vec![
                    cell(a.kind),
                    (name.to_owned(), Some(colour)),
                    cell(why.unwrap_or(&a.description)),
                ]
            })
            .collect();
        out.push_str(&table(&rows, "    "));
        match self.winner() {
            Some(winner) => out.push_str(&format!(
                "    => {} gives the tokens: {}\n",
                paint(winner.kind, GREEN),
                winner.description
            )),
            None => out.push_str(&format!(
                "    => {}{}\n",
                paint("no source gave a token", RED),
                fix_ref(self.identity_fix)
            )),
        }
        if let Some(warning) = &self.identity_warning {
            out.push_str(&format!("    {} {}\n", paint("warning:", YELLOW), warning));
        }
        out.push_str("  tokens:\n");
        let rows: Vec<_> = self
            .tokens
            .iter()
            .map(|t| (t, cell(format!("({})", t.purposes.join(", ")))))
            .map(|(t, purposes)| match &t.outcome {
                TokenOutcome::Got { expires_on, claims } => {
                    let who = if claims == &TokenClaims::default() {
                        "(not a JWT: no claims to show)".to_owned()
                    } else {
                        let field =
                            |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
                        format!(
                            "object id {}  app id {}  tenant {}",
                            field(&claims.object_id),
                            field(&claims.client_id),
                            field(&claims.tenant_id)
                        )
                    };
                    vec![
                        status_cell(true),
                        cell(&t.scope),
                        purposes,
                        cell(relative(*expires_on)),
                        cell(who),
                    ]
                }
                TokenOutcome::Failed(why) => {
                    vec![
                        status_cell(false),
                        cell(&t.scope),
                        purposes,
                        cell(format!("{why}{}", fix_ref(t.fix))),
                    ]
                }
                TokenOutcome::NoIdentity => vec![
                    not_run_cell(),
                    cell(&t.scope),
                    purposes,
                    cell(format!("not asked: no identity{}", fix_ref(t.fix))),
                ],
            })
            .collect();
        out.push_str(&table(&rows, "    "));
        if !self.vaults.is_empty() {
            out.push_str("  vaults:\n");
            let rows: Vec<_> = self
                .vaults
                .iter()
                .map(|v| {
                    vec![
                        if v.result == "no_token" {
                            not_run_cell()
                        } else {
                            status_cell(v.ok)
                        },
                        cell(format!("{} {}", object_word(v.need.object), v.need.name)),
                        cell(&v.need.url),
                        cell(format!("{}{}", v.summary, fix_ref(v.fix))),
                    ]
                })
                .collect();
            out.push_str(&table(&rows, "    "));
        }
    }

    fn json(&self) -> Value {
        let sources: Vec<Value> = self
            .sources
            .iter()
            .map(|a| {
                let (outcome, why) = outcome_name(&a.outcome);
                json!({
                    "kind": a.kind,
                    "description": a.description,
                    "outcome": outcome.replace(' ', "_"),
                    "reason": why,
                })
            })
            .collect();
        let tokens: Vec<Value> = self
            .tokens
            .iter()
            .map(|t| {
                let mut value = json!({
                    "scope": t.scope,
                    "for": t.purposes,
                    "ok": matches!(t.outcome, TokenOutcome::Got { .. }),
                    "fix": t.fix.map(|i| i + 1),
                });
                let details = match &t.outcome {
                    TokenOutcome::Got { expires_on, claims } => json!({
                        "expires_on": epoch(*expires_on),
                        "expires_in_seconds": expires_on
                            .duration_since(SystemTime::now())
                            .map_or(0, |d| d.as_secs()),
                        "object_id": claims.object_id,
                        "client_id": claims.client_id,
                        "tenant_id": claims.tenant_id,
                        "audience": claims.audience,
                        "error": null,
                    }),
                    TokenOutcome::Failed(why) => json!({ "error": why }),
                    TokenOutcome::NoIdentity => json!({ "error": "not asked: no identity" }),
                };
                if let (Some(value), Value::Object(details)) = (value.as_object_mut(), details) {
                    value.extend(details);
                }
                value
            })
            .collect();
        let vaults: Vec<Value> = self
            .vaults
            .iter()
            .map(|v| {
                json!({
                    "vault": v.need.url,
                    "vault_name": v.need.vault_name,
                    "type": object_word(v.need.object),
                    "name": v.need.name,
                    "variables": v.need.variables,
                    "ok": v.ok,
                    "result": v.result,
                    "status": v.status,
                    "versions": v.versions,
                    "code": v.code,
                    "inner_code": v.inner_code,
                    "message": v.message,
                    "summary": v.summary,
                    "fix": v.fix.map(|i| i + 1),
                })
            })
            .collect();
        json!({
            "store": self.name,
            "ok": self.ok(),
            "error": self.setup.as_ref().map(|(problem, _)| problem),
            "scope": self.scope,
            "sources": sources,
            "winner": self.winner().map(|a| json!({ "kind": a.kind, "description": a.description })),
            "identity_fix": self.identity_fix.map(|i| i + 1),
            "identity_warning": self.identity_warning,
            "tokens": tokens,
            "vaults": vaults,
        })
    }
}

impl Report {
    pub(super) fn human(&self) -> String {
        coloured(&self.human_marked())
    }

    fn human_marked(&self) -> String {
        let mut out = format!(
            "{}: {}{}\n",
            paint("dsops doctor", BOLD),
            self.file,
            self.env
                .as_ref()
                .map(|e| format!(", environment {e}"))
                .unwrap_or_default()
        );
        if self.warnings > 0 {
            out.push_str(&format!(
                "{}: {} warning{} (`dsops check` shows them)\n",
                self.file,
                self.warnings,
                if self.warnings == 1 { "" } else { "s" }
            ));
        }
        if self.stores.is_empty() {
            out.push_str("nothing to check: no variable is read from a store\n");
            return out;
        }
        for store in &self.stores {
            store.human(&mut out);
        }
        if !self.fixes.is_empty() {
            out.push_str(&format!("\n{}\n", paint("fixes", BOLD)));
            for (i, fix) in self.fixes.iter().enumerate() {
                out.push_str(&format!(
                    "  {}. store {}, {}: {}\n     fix: {}\n",
                    i + 1,
                    fix.store,
                    fix.subject,
                    fix.problem,
                    fix.fix
                ));
                if let Some(command) = &fix.command {
                    out.push_str(&format!("       {command}\n"));
                }
            }
        }
        let (checks, failed, not_run) = self.counts();
        if failed == 0 && not_run == 0 {
            out.push_str(&format!(
                "\n{}: all {checks} check{} passed\n",
                paint("ok", GREEN),
                if checks == 1 { "" } else { "s" }
            ));
        } else {
            let skipped = if not_run > 0 {
                format!(", {not_run} not run")
            } else {
                String::new()
            };
            out.push_str(&format!(
                "\n{}: {failed} of {checks} check{} failed{skipped}\n",
                paint("failed", RED),
                if checks == 1 { "" } else { "s" }
            ));
        }
        out
    }

    pub(super) fn json(&self) -> Value {
        let (checks, failed, not_run) = self.counts();
        json!({
            "ok": self.ok(),
            "env": self.env,
            "config": self.config_json,
            "checks": checks,
            "failed": failed,
            "not_run": not_run,
            "stores": self.stores.iter().map(StoreReport::json).collect::<Vec<_>>(),
            "fixes": self.fixes.iter().enumerate().map(|(i, f)| json!({
                "id": i + 1,
                "store": f.store,
                "check": f.check,
                "subject": f.subject,
                "problem": f.problem,
                "fix": f.fix,
                "command": f.command,
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(Duration::from_secs(3599)), "59 min");
        assert_eq!(duration_text(Duration::from_secs(45)), "45 s");
        assert_eq!(
            duration_text(Duration::from_secs(3 * 3600 + 120)),
            "3 h 2 min"
        );
    }

    #[test]
    fn tables_align() {
        let rows = vec![
            vec![cell("a"), cell("bb"), cell("x")],
            vec![cell("ccc"), cell("d"), cell("y")],
        ];
        assert_eq!(table(&rows, " "), " a    bb  x\n ccc  d   y\n");
    }
}
