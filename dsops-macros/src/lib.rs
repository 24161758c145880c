//! Procedural macros of dsops.
//!
//! `#[dsops::env("production")]` (re-exported by the `dsops` crate) turns
//! `pub struct Env;` into a struct with one typed field per variable of that
//! environment of `dsops.yaml`. This crate only reads the attribute: the
//! configuration is loaded and checked, and the code generated, by
//! `dsops-codegen`, which build scripts use as well.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

/// Generates a typed struct of one environment of `dsops.yaml`.
///
/// ```ignore
/// #[dsops::env("production")]           // optional: path = "config/dsops.yaml"
/// pub struct Env;
///
/// let env = Env::resolve().await?;      // through managed identity / the chain in dsops.yaml
/// let pw: &dsops::SecretString = &env.database_password;
/// ```
///
/// Arguments:
///
/// - the environment, a string literal (required, first);
/// - `path = "..."`: the configuration file, relative to the package
///   directory (default: `dsops.yaml` there, else in the first parent
///   directory up to the workspace root that has one);
/// - `crate = path`: where the `dsops` crate is (default `::dsops`), for
///   crates that re-export it.
///
/// The file is checked as `dsops check` checks it: every problem is a
/// compile error quoting `dsops.yaml:LINE:COL`. Editing the file, or a
/// variable it reads with `${NAME}`, rebuilds the crate; the file itself is
/// not compiled into the program (only the environment's part of it, without
/// comments or other environments).
#[proc_macro_attribute]
pub fn env(attr: TokenStream, item: TokenStream) -> TokenStream {
    let original: proc_macro2::TokenStream = item.clone().into();
    let attr: proc_macro2::TokenStream = attr.into();
    match expand(attr.clone(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let mut tokens = error;
            if let Ok(item) = syn::parse2::<syn::ItemStruct>(original) {
                let args = syn::parse2::<Args>(attr).ok();
                tokens.extend(fallback(item, args.as_ref()));
            }
            tokens.into()
        }
    }
}

/// The struct of a rejected configuration, with every item the generated
/// one has (as thiserror emits its impls beside its errors), so that the
/// compiler shows the configuration's `dsops.yaml:LINE:COL` error alone and
/// not a second "no function named `resolve`" at every use. Its bodies
/// never run: the crate does not compile while the error stands. Fields
/// cannot be given (the configuration that names them was rejected): a use
/// of one is still an error of its own.
fn fallback(item: syn::ItemStruct, args: Option<&Args>) -> proc_macro2::TokenStream {
    let syn::ItemStruct {
        attrs, vis, ident, ..
    } = item;
    let attrs = attrs.iter().filter(|a| !a.path().is_ident("derive"));
    let krate: syn::Path = args
        .and_then(|a| a.krate.clone())
        .unwrap_or_else(|| syn::parse_quote!(::dsops));
    let env = args.map(|a| a.env.value()).unwrap_or_default();
    let name = ident.to_string();
    let result = quote!(::core::result::Result<Self, #krate::Error>);
    let never = quote!(::core::unreachable!(
        "#[dsops::env] rejected its configuration at compile time"
    ));
    quote! {
        #(#attrs)* #vis struct #ident;

        #[allow(dead_code, unused_variables, clippy::unused_async)]
        impl #ident {
            /// The environment of dsops.yaml this struct was generated from.
            pub const ENVIRONMENT: &'static str = #env;
            /// See the generated struct's documentation.
            pub async fn resolve() -> #result { #never }
            /// See the generated struct's documentation.
            pub async fn resolve_with(options: #krate::ResolveOptions) -> #result { #never }
            /// See the generated struct's documentation.
            pub async fn watch(
                interval: ::core::time::Duration,
            ) -> ::core::result::Result<#krate::Watch<Self>, #krate::Error> { #never }
            /// See the generated struct's documentation.
            pub async fn watch_with(
                interval: ::core::time::Duration,
                options: #krate::ResolveOptions,
            ) -> ::core::result::Result<#krate::Watch<Self>, #krate::Error> { #never }
            /// See the generated struct's documentation.
            pub fn resolve_blocking() -> #result { #never }
            /// See the generated struct's documentation.
            pub fn from_env() -> #result { #never }
            /// See the generated struct's documentation.
            pub fn for_tests<I, K, V>(vars: I) -> #result
            where
                I: ::core::iter::IntoIterator<Item = (K, V)>,
                K: ::core::convert::AsRef<str>,
                V: ::core::convert::Into<::std::string::String>,
            {
                #never
            }
        }

        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(#name)
            }
        }
    }
}

/// The attribute's arguments.
struct Args {
    env: LitStr,
    path: Option<LitStr>,
    krate: Option<syn::Path>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "name the environment of dsops.yaml: #[dsops::env(\"production\")]",
            ));
        }
        let env: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "the first argument is the environment, a string: #[dsops::env(\"production\")]",
            )
        })?;
        let mut args = Args {
            env,
            path: None,
            krate: None,
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if input.peek(Token![crate]) {
                let keyword: Token![crate] = input.parse()?;
                input.parse::<Token![=]>()?;
                if args.krate.is_some() {
                    return Err(syn::Error::new(keyword.span, "`crate` is given twice"));
                }
                args.krate = Some(if input.peek(LitStr) {
                    input.parse::<LitStr>()?.parse()?
                } else {
                    input.parse()?
                });
                continue;
            }
            let key: syn::Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "path" if args.path.is_none() => args.path = Some(input.parse()?),
                "path" => return Err(syn::Error::new(key.span(), "`path` is given twice")),
                other => {
                    let mut message = format!("unknown argument `{other}`");
                    if let Some(close) =
                        dsops_config::suggest::did_you_mean(other, ["path", "crate"])
                    {
                        message.push_str(&format!("; did you mean `{close}`?"));
                    }
                    message.push_str(" (#[dsops::env] takes the environment, `path = \"...\"` and `crate = path`)");
                    return Err(syn::Error::new(key.span(), message));
                }
            }
        }
        Ok(args)
    }
}

fn expand(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> Result<proc_macro2::TokenStream, proc_macro2::TokenStream> {
    let args: Args = syn::parse2(attr).map_err(|e| e.to_compile_error())?;
    let item: syn::ItemStruct = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "#[dsops::env] goes on a struct without fields: `pub struct Env;`",
        )
        .to_compile_error()
    })?;
    if !item.fields.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.fields,
            "#[dsops::env] generates the fields from dsops.yaml: write `pub struct Env;`",
        )
        .to_compile_error());
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            "#[dsops::env] makes a struct without generic parameters",
        )
        .to_compile_error());
    }
    let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return Err(syn::Error::new(
            Span::call_site(),
            "CARGO_MANIFEST_DIR is not set: #[dsops::env] finds dsops.yaml from the package directory, which Cargo gives",
        )
        .to_compile_error());
    };
    let input = dsops_codegen::Input {
        env: args.env.value(),
        env_span: args.env.span(),
        path: args.path.as_ref().map(LitStr::value),
        path_span: args.path.as_ref().map(LitStr::span),
        manifest_dir: manifest_dir.into(),
        attrs: item.attrs,
        vis: item.vis,
        ident: item.ident,
        krate: args.krate.unwrap_or_else(|| syn::parse_quote!(::dsops)),
        track: true,
    };
    dsops_codegen::generate(&input)
        .map(|generated| generated.tokens)
        .map_err(|errors| errors.to_compile_error())
}
