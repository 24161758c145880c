//! Snapshots of the generated code, formatted with prettyplease: the build
//! script's file for every `from:` form, and the proc macro's expansion
//! (with its rebuild tracking) of a small environment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use dsops_codegen::{Builder, Input, generate};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_build_script_file_for_every_form() {
    let rendered = Builder::new("production")
        .config("tests/fixtures/forms.yaml")
        .render(manifest_dir())
        .unwrap();
    insta::assert_snapshot!("builder_forms", rendered.text);
    // Nothing of the file but the environment and its store.
    assert!(!rendered.text.contains("seed page"), "no comment");
}

#[test]
fn the_macro_expansion_tracks_the_file_and_its_variables() {
    let mut input = Input::new("production", manifest_dir());
    input.path = Some("tests/fixtures/small.yaml".to_owned());
    input.track = true;
    input.ident = syn::parse_quote!(AppEnv);
    input.vis = syn::parse_quote!(pub(crate));
    input.krate = syn::parse_quote!(::platform::secrets::dsops);
    input.attrs = vec![
        syn::parse_quote!(#[doc = " The app's secrets."]),
        syn::parse_quote!(#[derive(Clone)]),
    ];
    let generated = generate(&input).unwrap();
    assert_eq!(
        generated.variables,
        ["APP_IDENTITY_CLIENT_ID", "FLAGS_VAULT"]
    );
    assert_eq!(
        generated.fields,
        [
            (
                "DATABASE_PASSWORD".to_owned(),
                "database_password".to_owned()
            ),
            ("FEATURE_FLAGS".to_owned(), "feature_flags".to_owned()),
            ("LOG_LEVEL".to_owned(), "log_level".to_owned()),
        ]
    );
    let file: syn::File = syn::parse2(generated.tokens).unwrap();
    let text = prettyplease::unparse(&file)
        .replace(&manifest_dir().display().to_string(), "$CARGO_MANIFEST_DIR");
    insta::assert_snapshot!("macro_small", text);
    for absent in ["comment", "staging", "other-store"] {
        assert!(!text.contains(absent), "{absent} in the expansion");
    }
    assert!(
        !text
            .replace("::platform::secrets::dsops::", "")
            .contains("dsops::"),
        "only the crate path given"
    );
}
