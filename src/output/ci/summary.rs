//! The step summary of a CI run (`GITHUB_STEP_SUMMARY`): a Markdown table
//! of variable, source and status. It is built from names, sources and
//! statuses only; there is no way to put a value in it.

use std::fmt::Write as _;

/// How one variable fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Resolved, and handed on as the text says ("job environment").
    Ok(String),
    /// Resolved, with a caveat ("not masked: shorter than 4 characters").
    Warning(String),
    /// Not resolved, or refused; the text says why.
    Failed(String),
    /// Optional and not resolved: left unset.
    Skipped(String),
}

impl Status {
    fn cell(&self) -> String {
        let (mark, text) = match self {
            Status::Ok(text) => ("✅", text),
            Status::Warning(text) => ("⚠️", text),
            Status::Failed(text) => ("❌", text),
            Status::Skipped(text) => ("➖", text),
        };
        format!("{mark} {}", cell(text))
    }
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The variable.
    pub variable: String,
    /// Where it comes from ("secret db-password in `https://v.vault.azure.net` (store prod)").
    pub source: String,
    /// What happened.
    pub status: Status,
}

/// The Markdown: a heading, a one-line verdict, and the table.
pub fn markdown(heading: &str, verdict: &str, rows: &[Row]) -> String {
    let mut text = format!("### {}\n\n{}\n\n", cell(heading), cell(verdict));
    text.push_str("| Variable | Source | Status |\n|---|---|---|\n");
    for row in rows {
        let _ = writeln!(
            text,
            "| `{}` | {} | {} |",
            row.variable.replace('`', "'"),
            cell(&row.source),
            row.status.cell()
        );
    }
    text.push('\n');
    text
}

/// Text made safe for one table cell: no line breaks or other control
/// characters, no `|`, no HTML, and no link or image (`[`, `]` and `!` are
/// escaped): a server's error message may hold
/// `![x](https://attacker.example/pixel)`.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '!' => out.push_str("\\!"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_makes_no_image_link_or_escape() {
        let rows = [Row {
            variable: "DB".into(),
            source: "secret db".into(),
            status: Status::Failed(
                "403 ![x](https://attacker.example/p.png) [y](https://e) \u{1b}[31m".into(),
            ),
        }];
        let text = markdown("h", "v", &rows);
        assert!(
            text.contains("\\!\\[x\\](https://attacker.example/p.png) \\[y\\](https://e)  \\[31m"),
            "{text}"
        );
    }

    #[test]
    fn a_table_of_names_sources_and_statuses() {
        let rows = [
            Row {
                variable: "DB".into(),
                source: "secret db in https://v.vault.azure.net | x".into(),
                status: Status::Ok("job environment".into()),
            },
            Row {
                variable: "API".into(),
                source: "secret <api>\nkey".into(),
                status: Status::Failed("404 SecretNotFound".into()),
            },
        ];
        assert_eq!(
            markdown("dsops: production", "1 of 2 failed", &rows),
            "### dsops: production\n\n1 of 2 failed\n\n\
             | Variable | Source | Status |\n|---|---|---|\n\
             | `DB` | secret db in https://v.vault.azure.net \\| x | ✅ job environment |\n\
             | `API` | secret &lt;api&gt; key | ❌ 404 SecretNotFound |\n\n"
        );
    }
}
