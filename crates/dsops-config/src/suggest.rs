//! "Did you mean ...?" for misspelled keys and names.

/// The candidate closest to `word`, if one is close enough to be a likely typo.
///
/// Keys differing only in case, `_`/`-` or camelCase (`secret_stores` for
/// `secretStores`, `clientId` for `client_id`) always match.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let folded = fold(word);
    let mut best: Option<(&str, usize)> = None;
    for candidate in candidates {
        let candidate_folded = fold(candidate);
        if candidate_folded == folded {
            return Some(candidate);
        }
        // An abbreviation: `prod` for `production`, `dev` for `development`.
        if folded.len() >= 3 && candidate_folded.starts_with(&folded) {
            best = Some((candidate, 0));
            continue;
        }
        let distance = strsim::damerau_levenshtein(
            &word.to_ascii_lowercase(),
            &candidate.to_ascii_lowercase(),
        );
        let limit = (candidate.chars().count().max(word.chars().count()) / 3).max(1);
        if distance <= limit && best.is_none_or(|(_, d)| distance < d) {
            best = Some((candidate, distance));
        }
    }
    best.map(|(c, _)| c)
}

fn fold(word: &str) -> String {
    word.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `a`, `a` or `b`, `a`, `b` or `c`: for listing choices in messages.
pub fn one_of(choices: &[&str]) -> String {
    let quoted: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_spelling_variants() {
        let keys = ["store", "vault", "secret", "version", "type"];
        assert_eq!(did_you_mean("secrt", keys), Some("secret"));
        assert_eq!(did_you_mean("valut", keys), Some("vault"));
        assert_eq!(did_you_mean("Store", keys), Some("store"));
        assert_eq!(did_you_mean("banana", keys), None);
        assert_eq!(
            did_you_mean("prod", ["production", "staging"]),
            Some("production")
        );
        assert_eq!(
            did_you_mean("dev", ["production", "development"]),
            Some("development")
        );
        assert_eq!(
            did_you_mean("secret_stores", ["secretStores", "envs"]),
            Some("secretStores")
        );
        assert_eq!(
            did_you_mean("clientId", ["client_id", "object_id"]),
            Some("client_id")
        );
    }

    #[test]
    fn lists_choices() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
