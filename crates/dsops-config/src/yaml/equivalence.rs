//! The fast path and serde-saphyr give the same tree: kinds, typed scalars,
//! texts, keys and spans, byte for byte. The corpus is every YAML file of the
//! repository and every YAML block of its Markdown, each also with CRLF line
//! ends and cut short at many places, the generated configurations of the
//! benchmark, and the cases below. Where serde-saphyr refuses a text, the
//! fast path must refuse it too (so that its error is reported unchanged).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::path::{Path, PathBuf};

use super::{MAX_DEPTH, Node, NodeKind, fast, parse_with_serde_saphyr};
use crate::source::Source;

#[path = "../../../../benches/support/check_config.rs"]
mod check_config;

/// What happened to one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Both paths built it, and the trees are the same.
    Same,
    /// serde-saphyr built it; the fast path left it to serde-saphyr.
    FellBack,
    /// serde-saphyr refused it, and so did the fast path.
    Refused,
}

/// Compares the two paths on `text`; panics on any difference.
fn compare(name: &str, text: &str) -> Outcome {
    let source = Source::new(name, text);
    let reference = parse_with_serde_saphyr(&source);
    let fast = fast::parse(&source);
    match (fast, reference) {
        (Some(fast), Ok(reference)) => {
            if let Some(difference) = difference(&source, &fast, &reference, "root") {
                panic!("{name}: the paths differ at {difference}\n--- text:\n{text}");
            }
            Outcome::Same
        }
        (Some(fast), Err(err)) => panic!(
            "{name}: the fast path accepts what serde-saphyr refuses ({}): {fast:?}\n--- text:\n{text}",
            err.message
        ),
        (None, Ok(_)) => Outcome::FellBack,
        (None, Err(_)) => Outcome::Refused,
    }
}

/// Where two trees first differ, in words.
fn difference(source: &Source, a: &Node, b: &Node, path: &str) -> Option<String> {
    let shown = |node: &Node| {
        format!(
            "{:?} at {:?} {:?}",
            node.kind_name(),
            node.span,
            source.slice(node.span)
        )
    };
    if a.span != b.span {
        return Some(format!(
            "{path}: span: fast {} / serde-saphyr {}",
            shown(a),
            shown(b)
        ));
    }
    match (&a.kind, &b.kind) {
        (NodeKind::Null, NodeKind::Null) => None,
        (NodeKind::Scalar { .. }, NodeKind::Scalar { .. }) => (a.kind != b.kind)
            .then(|| format!("{path}: fast {:?} / serde-saphyr {:?}", a.kind, b.kind)),
        (NodeKind::Seq(x), NodeKind::Seq(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: {} items / {}", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (x, y))| difference(source, x, y, &format!("{path}[{i}]")))
        }
        (NodeKind::Map(x), NodeKind::Map(y)) => {
            let keys = |entries: &[super::Entry]| {
                entries
                    .iter()
                    .map(|e| (e.key.text.clone(), e.key.span, e.key.is_scalar))
                    .collect::<Vec<_>>()
            };
            if keys(x) != keys(y) {
                return Some(format!(
                    "{path}: keys: fast {:?} / serde-saphyr {:?}",
                    keys(x),
                    keys(y)
                ));
            }
            x.iter().zip(y).find_map(|(x, y)| {
                difference(
                    source,
                    &x.value,
                    &y.value,
                    &format!("{path}.{}", x.key.text),
                )
            })
        }
        _ => Some(format!(
            "{path}: fast {} / serde-saphyr {}",
            shown(a),
            shown(b)
        )),
    }
}

impl Node {
    fn kind_name(&self) -> &'static str {
        self.describe()
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.yaml`/`.yml` file and every `.md` file of the repository, but for
/// build output and dependencies.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !matches!(name, "target" | ".git" | "node_modules") {
                files(&path, out);
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".md") {
            out.push(path);
        }
    }
}

/// The ```yaml (or ```yml) blocks of a Markdown text.
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim_start();
        match &mut current {
            None => {
                if fence.starts_with("```yaml") || fence.starts_with("```yml") {
                    current = Some(String::new());
                }
            }
            Some(block) => {
                if fence.starts_with("```") {
                    blocks.push(std::mem::take(block));
                    current = None;
                } else {
                    block.push_str(line);
                    block.push('\n');
                }
            }
        }
    }
    blocks
}

/// The corpus: (name, text) for every YAML file and Markdown YAML block.
fn corpus() -> Vec<(String, String)> {
    let root = root();
    let mut paths = Vec::new();
    files(&root, &mut paths);
    let mut texts = Vec::new();
    for path in paths {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if name.ends_with(".md") {
            for (i, block) in yaml_blocks(&text).into_iter().enumerate() {
                texts.push((format!("{name}#yaml{}", i + 1), block));
            }
        } else {
            texts.push((name, text));
        }
    }
    texts
}

/// Texts the fast path is known to leave to serde-saphyr, although
/// serde-saphyr accepts them: tags other than `!!str` and `!`.
const EXPECTED_FALLBACKS: &[&str] = &[];

#[test]
fn every_yaml_file_of_the_repository_parses_the_same_both_ways() {
    let corpus = corpus();
    let files = corpus
        .iter()
        .filter(|(name, _)| !name.contains('#'))
        .count();
    let blocks = corpus.len() - files;
    // The walk found the repository: a broken path must not pass vacuously.
    assert!(
        files >= 100,
        "only {files} YAML files found under {}",
        root().display()
    );
    assert!(
        blocks >= 20,
        "only {blocks} YAML blocks found in the Markdown"
    );
    let mut counts = [0usize; 3];
    let mut fell_back = Vec::new();
    for (name, text) in &corpus {
        if text.trim().is_empty() {
            continue;
        }
        for (variant, text) in [("", text.clone()), (" (CRLF)", text.replace('\n', "\r\n"))] {
            let name = format!("{name}{variant}");
            let outcome = compare(&name, &text);
            counts[outcome as usize] += 1;
            if outcome == Outcome::FellBack {
                fell_back.push(name);
            }
        }
    }
    eprintln!(
        "{files} files and {blocks} Markdown blocks, each also with CRLF: {} the same both ways, \
         {} left to serde-saphyr, {} refused by both",
        counts[0], counts[1], counts[2]
    );
    let unexpected: Vec<_> = fell_back
        .iter()
        .filter(|name| !EXPECTED_FALLBACKS.iter().any(|e| name.starts_with(e)))
        .collect();
    assert!(
        unexpected.is_empty(),
        "serde-saphyr accepts these, the fast path left them: {unexpected:?}"
    );
}

/// Every text cut short at line boundaries and inside lines: mostly broken
/// YAML, which both paths must refuse, or the same tree.
#[test]
fn the_corpus_cut_short_parses_the_same_or_fails_both_ways() {
    let mut counts = [0usize; 3];
    for (name, text) in corpus() {
        let cuts: Vec<usize> = text
            .char_indices()
            .filter(|&(i, c)| c == '\n' || i % 97 == 0)
            .map(|(i, _)| i)
            .collect();
        let step = (cuts.len() / 40).max(1);
        for &cut in cuts.iter().step_by(step) {
            let prefix = &text[..cut];
            if prefix.trim().is_empty() {
                continue;
            }
            counts[compare(&format!("{name}[..{cut}]"), prefix) as usize] += 1;
        }
    }
    eprintln!(
        "prefixes: {} the same both ways, {} left to serde-saphyr, {} refused by both",
        counts[0], counts[1], counts[2]
    );
    assert!(counts[0] > 500 && counts[2] > 100, "{counts:?}");
}

/// Hand-written cases: what a configuration may hold, and what it should not.
/// `fast`: whether the fast path must build it itself.
const CASES: &[(&str, bool, &str)] = &[
    ("plain", true, "a: 1\nb: text\nc: some more text\n"),
    (
        "integers",
        true,
        "a: 0x1F\nb: 0o17\nc: 0b101\nd: 1_000\ne: 0X1F\nf: +12\ng: -12\nh: 012\ni: -012\nj: 00\nk: 0\nl: -0\nm: 0x\nn: 1__0\no: _1\np: 0xfF_fF\nq: +0x10\nr: -0x10\ns: 0o9\n",
    ),
    (
        "big integers",
        true,
        "a: 9223372036854775807\nb: 9223372036854775808\nc: -9223372036854775808\nd: -9223372036854775809\ne: 340282366920938463463374607431768211456\nf: 18446744073709551615\ng: 18446744073709551616\nh: 0xFFFFFFFFFFFFFFFFFF\n",
    ),
    (
        "floats",
        true,
        "a: 1e3\nb: 1.5\nc: .5\nd: 5.\ne: -1.5e-3\nf: 1E3\ng: +.5\nh: 1_0.5\ni: 1e\nj: e5\nk: 0.0\nl: -0.0\nm: 1.5.5\n",
    ),
    (
        "words that are not numbers",
        true,
        "a: nan\nb: inf\nc: infinity\nd: NaN\ne: +.nan\nf: -.NaN\ng: .nanx\nh: Infinity\n",
    ),
    (
        "letters first",
        true,
        "a: infinity\nb: INF\nc: NaN\nd: e5\ne: E5\nf: _1\ng: \u{661}\u{662}\nh: x1\ni: Inf\nj: nAn\n",
    ),
    ("nan", false, "a: .nan\n"),
    ("inf", false, "a: .inf\n"),
    ("negative inf", false, "a: -.Inf\n"),
    ("overflowing float", false, "a: 1e999\n"),
    (
        "booleans are strict",
        true,
        "a: true\nb: True\nc: TRUE\nd: yes\ne: on\nf: y\ng: false\nh: No\ni: tRUE\nj: off\nk: n\n",
    ),
    (
        "nulls",
        true,
        "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: ''\ng: \"\"\nh: nUll\ni: '~'\nj: \"null\"\n",
    ),
    (
        "quoted",
        true,
        "a: 'single ''quoted'''\nb: \"double\\n\\t\\u00e9\"\nc: \"1\"\nd: 'true'\ne: \"null\"\nf: '0x1F'\n",
    ),
    (
        "block scalars",
        true,
        "a: |\n  one\n  two\n\nb: >\n  folded\n  text\n\n\nc: |-\n  keep\nd: |+\n  plus\n\ne: >2\n   indented\nf: >-\n  x\n\n  y\ng: after\n",
    ),
    ("block scalar at the end", true, "a: |\n  one\n"),
    (
        "block scalar without a last line break",
        true,
        "a: |\n  one",
    ),
    ("empty block scalar", true, "a: |\nb: >\n\nc: x\n"),
    (
        "block scalar in a list",
        true,
        "- |\n  one\n  two\n- >\n  three\n\n- x\n",
    ),
    (
        "flow",
        true,
        "a: {b: 1, c: [1, 2, {d: e}]}\nf: []\ng: {}\nh: [a, 'b', \"c\"]\n",
    ),
    (
        "flow over lines",
        true,
        "a: {\n  b: 1,\n  c: [1,\n    2],\n}\n",
    ),
    (
        "quoted keys",
        true,
        "'a b': 1\n\"c\\td\": 2\n? complex\n: 3\n'': 4\n",
    ),
    (
        "non-scalar keys",
        true,
        "? [a, b]\n: x\n? {c: d}\n: y\n[e]: z\n? - f\n  - g\n: w\n",
    ),
    ("null key", true, "? \n: x\n~: y\nnull: z\n"),
    ("typed keys", true, "1: a\ntrue: b\n1.5: c\n0x10: d\n"),
    (
        "anchors and aliases",
        true,
        "a: &x 1\nb: *x\nc: &l [1, 2]\nd: *l\ne: &m {k: v, n: [*x]}\nf: *m\ng: [*x, *l, *m]\n",
    ),
    (
        "alias to a string",
        true,
        "a: &s hello\nb: *s\nc: &q 'quoted'\nd: *q\n",
    ),
    ("alias to null", true, "a: &n\nb: *n\nc: &t ~\nd: *t\n"),
    (
        "alias to a block scalar",
        true,
        "a: &b |\n  text\n\nb: *b\nc: x\n",
    ),
    ("alias as a key", true, "a: &k key\n*k : 2\n? *k\n: 3\n"),
    (
        "alias of a list as a key",
        true,
        "a: &l [1, {b: c}]\n? *l\n: x\n",
    ),
    ("anchor on a key", true, "&a a: b\nc: *a\n"),
    (
        "anchor inside an anchor",
        true,
        "a: &o {b: &i [1, 2], c: *i}\nd: *o\ne: *i\n",
    ),
    ("anchor redefined", true, "a: &x 1\nb: *x\nc: &x 2\nd: *x\n"),
    (
        "anchor in a list",
        true,
        "- &x {a: 1}\n- *x\n- &y\n  - 1\n- *y\n",
    ),
    (
        "merge keys",
        true,
        "base: &base {a: 1, b: 2}\nderived:\n  <<: *base\n  b: 3\n  c: 4\n",
    ),
    (
        "merge of a list",
        true,
        "x: &a {p: 1}\ny: &b {q: 2, p: 3}\nz:\n  <<: [*a, *b]\n  r: 4\n",
    ),
    ("inline merge", true, "m:\n  <<: {a: 1, b: 2}\n  a: 0\n"),
    (
        "block merge",
        true,
        "m:\n  <<:\n    a: 1\n    n: {x: y}\n  b: 2\n",
    ),
    (
        "merge of inline lists",
        true,
        "m:\n  <<: [{a: 1}, {b: 2}, [{c: 3}], ~]\n",
    ),
    (
        "merge of null",
        true,
        "m:\n  <<: ~\n  a: 1\nn:\n  <<:\n  b: 2\n",
    ),
    (
        "nested merge",
        true,
        "m:\n  <<: {<<: {a: 1, z: [1]}, b: 2}\n",
    ),
    ("two merges", true, "m: {<<: {a: 1}, <<: {a: 2, c: 3}}\n"),
    (
        "merge with duplicates",
        true,
        "m:\n  a: 1\n  <<: {a: 2, b: 3, b: 4}\n  a: 3\n",
    ),
    (
        "merge into a list item",
        true,
        "- <<: {a: 1}\n  b: 2\n- <<: [{c: 3}]\n",
    ),
    (
        "anchored map with a merge",
        true,
        "d: &d\n  <<: {a: 1}\n  b: 2\ne: *d\nf:\n  <<: *d\n",
    ),
    (
        "merge with an alias inside",
        true,
        "x: &x 1\nm:\n  <<: {a: *x, b: [*x]}\n",
    ),
    (
        "merge value in a merge list",
        true,
        "a: &a {x: 1}\nm:\n  <<: [{<<: *a, y: 2}, {<<: [{z: 3}]}]\n",
    ),
    (
        "quoted merge key",
        true,
        "m:\n  '<<': 1\n  \"<<\": {a: 1}\n",
    ),
    ("alias merge key", true, "a: &k <<\nm:\n  *k : {x: 1}\n"),
    (
        "merge key with an anchor",
        true,
        "m:\n  &k <<: {x: 1}\nn:\n  *k : {y: 2}\n",
    ),
    (
        "merge with a number key",
        false,
        "m:\n  1: x\n  <<: {a: 1}\n",
    ),
    ("merge of a scalar", false, "m:\n  <<: 5\n"),
    ("merge of an undefined alias", false, "m:\n  <<: *nope\n"),
    ("merge key alone", true, "<<: {a: 1}\n"),
    ("duplicate keys", true, "a: 1\na: 2\nb: {c: 1, c: 2}\n"),
    (
        "comments",
        true,
        "# top\na: 1 # trailing\n# between\nb: [1, # in flow\n  2]\nc: |\n  # not a comment\n",
    ),
    ("a comment alone", true, "# just a comment\n"),
    ("comments alone", true, "# one\n\n  # two\n"),
    ("explicit empty document", true, "---\n"),
    ("document markers", true, "--- \na: 1\n...\n"),
    ("document end alone", true, "a: 1\n...\n"),
    ("directive", true, "%YAML 1.2\n---\na: 1\n"),
    ("two documents", false, "a: 1\n---\nb: 2\n"),
    (
        "unicode",
        true,
        "clé: valeur\n名前: 値\nemoji: \"😀\"\n\"ключ\": |\n  текст\n  ещё\nà: [é, 'ü', \"ö\"]\n",
    ),
    (
        "crlf",
        true,
        "a: 1\r\nb: |\r\n  x\r\n  y\r\n\r\nc: [1, 2]\r\nd: >\r\n  f\r\n",
    ),
    ("tab separator", true, "a:\t1\nb: 2\t\nc: \"tab\\there\"\n"),
    ("tab in a block scalar", true, "a: |\n  \tx\n"),
    ("tab indentation", false, "a:\n\tb: 1\n"),
    ("tags", false, "a: !!str 1\nb: ! 2\nc: !!int 3\n"),
    (
        "string tags",
        true,
        "a: !!str 1\nb: ! 2\nc: !!str\nd: !<tag:yaml.org,2002:str> 3\n",
    ),
    ("custom tag", false, "a: !custom x\n"),
    ("collection tag", false, "a: !!map {}\n"),
    ("byte order mark", true, "\u{feff}a: 1\n"),
    ("root string", true, "hello\n"),
    ("root number", true, "42\n"),
    ("root list", true, "- a\n- b\n"),
    ("root flow list", true, "[1, 2]\n"),
    ("root alias of a scalar", true, "&a x\n"),
    ("unclosed flow", false, "a: [1, 2\n"),
    ("unclosed mapping", false, "a: {b\n"),
    ("two colons", false, "a: b: c\n"),
    ("bad indentation", false, "key: value\n  bad: x\n"),
    ("undefined alias", false, "*undefined\n"),
    ("recursive alias", false, "a: &x [*x]\n"),
    ("recursive alias in a map", false, "a: &x {b: *x}\n"),
    ("alias alone", false, "a: *\n"),
    ("plain over lines", true, "a: one\n  two\n  three\nb: x\n"),
    (
        "quoted over lines",
        true,
        "a: \"one\n  two\"\nb: 'three\n\n  four'\n",
    ),
    (
        "colons in values",
        true,
        "a:b: c\nurl: http://x:80/y\nt: 12:30\n",
    ),
    ("indentless list", true, "a:\n- 1\n- 2\nb: x\n"),
    (
        "variables",
        true,
        "vault: ${VAULT}\nsecret: \"${SECRET:-x}\"\n",
    ),
    ("empty flow values", true, "{a: , b: }\n"),
    (
        "nested lists",
        true,
        "- - nested\n  - seq\n- [a, [b, [c]]]\n",
    ),
    ("empty values in a list", true, "- \n- ~\n-\n"),
    (
        "spaces after values",
        true,
        "a: 1   \nb: text   \nc: 'q'   \n",
    ),
    ("windows paths", true, "a: C:\\path\\to\nb: \"C:\\\\x\"\n"),
    (
        "long key",
        true,
        "? aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n: 1\n",
    ),
    ("reserved indicator", false, "a: @x\n"),
    ("backquote", false, "a: `x`\n"),
];

#[test]
fn hand_written_cases_parse_the_same_both_ways() {
    let mut missed = Vec::new();
    for (name, fast, text) in CASES {
        let outcome = compare(name, text);
        if *fast && outcome != Outcome::Same {
            missed.push((*name, outcome));
        }
        let crlf = text.replace('\n', "\r\n");
        let crlf_outcome = compare(&format!("{name} (CRLF)"), &crlf);
        if *fast && crlf_outcome != Outcome::Same {
            missed.push((*name, crlf_outcome));
        }
    }
    assert!(
        missed.is_empty(),
        "the fast path should build these: {missed:?}"
    );
}

#[test]
fn nesting_limits_match() {
    for depth in [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1] {
        let flow = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let expected = if depth <= MAX_DEPTH {
            Outcome::Same
        } else {
            Outcome::Refused
        };
        assert_eq!(compare(&format!("flow {depth}"), &flow), expected);
        let mut block = String::new();
        for level in 0..depth {
            block.push_str(&"  ".repeat(level));
            block.push_str(&format!("k{level}:\n"));
        }
        block.push_str(&"  ".repeat(depth));
        block.push_str("leaf: 1\n");
        // `depth` keys hold `depth` + 1 mappings.
        let expected = if depth < MAX_DEPTH {
            Outcome::Same
        } else {
            Outcome::Refused
        };
        assert_eq!(compare(&format!("block {depth}"), &block), expected);
    }
    // Through an alias: the replayed list lands one level deeper than it was defined.
    let inner = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    assert_eq!(
        compare("alias depth ok", &format!("- &a {inner}\n")),
        Outcome::Same
    );
    assert_eq!(
        compare("alias depth", &format!("a: &a {inner}\nb: [*a]\n")),
        Outcome::Refused
    );
}

#[test]
fn alias_limits_match() {
    // The bomb of the unit tests above: refused by both.
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert_eq!(compare("bomb", &bomb), Outcome::Refused);
    // Just under and over the replay limit: each `*a` replays 1,002 events
    // (the list, its 1,000 items, its end), and 200 of them cross 200,000.
    // Enough other anchors keep the alias/anchor ratio out of the way.
    for (n, expected) in [(199, Outcome::Same), (200, Outcome::Refused)] {
        let items = vec!["x"; 1_000].join(", ");
        let mut text = format!("a: &a [{items}]\n");
        for i in 0..n / 10 {
            text.push_str(&format!("e{i}: &e{i} y\n"));
        }
        for i in 0..n {
            text.push_str(&format!("c{i}: *a\n"));
        }
        assert_eq!(
            compare(&format!("replay {n}"), &text),
            expected,
            "replay {n}"
        );
    }
    // The alias/anchor ratio: 100 aliases of one anchor are refused, 99 are not.
    for (n, expected) in [(99, Outcome::Same), (100, Outcome::Refused)] {
        let mut text = String::from("a: &a x\n");
        for i in 0..n {
            text.push_str(&format!("b{i}: *a\n"));
        }
        assert_eq!(compare(&format!("ratio {n}"), &text), expected);
    }
}

#[test]
fn the_fast_path_builds_a_normal_file() {
    let text = std::fs::read_to_string(root().join("examples/dsops.yaml")).unwrap();
    let source = Source::new("dsops.yaml", text);
    assert!(fast::parse(&source).is_some(), "examples/dsops.yaml");
    for n in [10, 1_000, 10_000] {
        let text = check_config::generate(n);
        assert_eq!(compare(&format!("generated {n}"), &text), Outcome::Same);
    }
}

/// The tokens of the fuzz dictionary (`fuzz/yaml.dict`): YAML's indicators and dsops's keys.
fn dictionary() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("fuzz/yaml.dict")).unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix('"')?.strip_suffix('"'))
        .map(|token| {
            token
                .replace("\\x0A", "\n")
                .replace("\\x09", "\t")
                .replace("\\\"", "\"")
        })
        .collect()
}

/// Hostile input, a fuzzer's way without its engine: every repository YAML
/// file mutated many times over (tokens inserted, ranges deleted or repeated,
/// lines swapped or re-indented), from a fixed seed. Neither path may panic,
/// and each mutant must parse the same both ways or be refused by both.
#[test]
fn mutated_files_parse_the_same_or_fail_both_ways() {
    let tokens = dictionary();
    assert!(tokens.len() > 40, "fuzz/yaml.dict: {} tokens", tokens.len());
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % (bound.max(1) as u64)).unwrap()
    };
    let mut counts = [0usize; 3];
    for (name, text) in corpus() {
        if name.contains('#') || text.len() > 16 * 1024 {
            continue;
        }
        for round in 0..16 {
            let mut bytes = text.clone().into_bytes();
            for _ in 0..1 + next(4) {
                let len = bytes.len();
                let at = next(len + 1);
                match next(5) {
                    0 => {
                        let token = &tokens[next(tokens.len())];
                        bytes.splice(at..at, token.bytes());
                    }
                    1 => {
                        let end = (at + next(40)).min(len);
                        bytes.drain(at..end);
                    }
                    2 => {
                        let end = (at + next(80)).min(len);
                        let copy = bytes[at..end].to_vec();
                        bytes.splice(at..at, copy);
                    }
                    3 => {
                        let mut lines: Vec<Vec<u8>> =
                            bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
                        let (a, b) = (next(lines.len()), next(lines.len()));
                        lines.swap(a, b);
                        bytes = lines.join(&b'\n');
                    }
                    _ => {
                        let line = bytes[..at]
                            .iter()
                            .rposition(|b| *b == b'\n')
                            .map_or(0, |i| i + 1);
                        if next(2) == 0 {
                            bytes.splice(line..line, *b"  ");
                        } else if bytes.get(line) == Some(&b' ') {
                            bytes.remove(line);
                        }
                    }
                }
            }
            let mutant = String::from_utf8_lossy(&bytes).into_owned();
            if mutant.trim().is_empty() {
                continue;
            }
            counts[compare(&format!("{name} mutant {round}"), &mutant) as usize] += 1;
        }
    }
    eprintln!(
        "mutants: {} the same both ways, {} left to serde-saphyr, {} refused by both",
        counts[0], counts[1], counts[2]
    );
    assert!(counts[0] > 300 && counts[2] > 300, "{counts:?}");
}

#[test]
fn a_number_through_an_alias_or_a_merge_keeps_its_anchored_text() {
    let text =
        "a: &x 0x1F\nb: *x\nc: &t true\nd: *t\nbase: &base { port: 5432 }\nuse:\n  <<: *base\n";
    assert_eq!(compare("aliased numbers", text), Outcome::Same);
    let source = Source::new("aliased numbers", text);
    for tree in [
        fast::parse(&source).expect("the fast path takes it"),
        parse_with_serde_saphyr(&source).expect("serde-saphyr takes it"),
    ] {
        let NodeKind::Map(entries) = &tree.kind else {
            panic!("a mapping: {tree:?}");
        };
        let text_of = |node: &Node| match &node.kind {
            NodeKind::Scalar { text, .. } => text.clone(),
            NodeKind::Map(inner) => inner
                .first()
                .map(|e| match &e.value.kind {
                    NodeKind::Scalar { text, .. } => text.clone(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default(),
            other => format!("{other:?}"),
        };
        let got: Vec<(String, String)> = entries
            .iter()
            .map(|e| (e.key.text.clone(), text_of(&e.value)))
            .collect();
        assert_eq!(
            got,
            [
                ("a", "0x1F"),
                ("b", "0x1F"),
                ("c", "true"),
                ("d", "true"),
                ("base", "5432"),
                ("use", "5432"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        // Placed where they are used: `b`'s value is the alias.
        let b = &entries[1].value;
        assert_eq!(source.slice(b.span), "*x");
    }
}
