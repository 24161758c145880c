//! The JSON Schema of `dsops.yaml`, for editors (yaml-language-server) and tools.

/// The schema document (JSON Schema draft 7, which yaml-language-server supports best).
pub const JSON_SCHEMA: &str = include_str!("../schema/dsops.schema.json");

#[cfg(test)]
mod tests {
    //! The schema is written by hand; these tests hold it to the decoder's own
    //! lists of keys and keywords, so that neither can change without the other.

    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::JSON_SCHEMA;
    use crate::decode::TOP_KEYS;
    use crate::decode::env::{
        COMMON_FROM_KEYS, COSMOS_APIS, COSMOS_KEY_NAMES, COSMOS_KEYS, FORMATS, KEYVAULT_KEYS,
        KEYVAULT_OBJECTS, OPERATIONS, REFERENCE_RESOURCE_TYPES, SAS_KEYS, SAS_PERMISSIONS,
        SAS_PROTOCOLS, SAS_RESOURCE_TYPES, SAS_SERVICES, SQL_DIALECTS, SQL_KEYS, STORAGE_KEY_KEYS,
        STORAGE_KEYS, TOKEN_KEYS, VARIABLE_KEYS, all_from_keys,
    };
    use crate::decode::store::{
        AUTH_KEYS, CACHE_KEYS, CI_PRESETS, CLOUD_ALIASES, CLOUD_KEYS, CLOUD_NAMES, COMMON_KEYS,
        DEBUG_KEYS, FALLBACK_TYPES, IDENTITY_KEYS, IDENTITY_TYPES, KEYVAULT_ONLY,
        MANAGED_IDENTITY_ONLY, PERFORMANCE_KEYS, RESOURCE_KEYS, RESOURCE_TYPES, SECRET_CACHE_KEYS,
        STORE_TYPES, TOKEN_CACHE_KEYS, all_store_keys, fallback_keys,
    };
    use crate::model::{MAX_MAX_CONCURRENT, SUPPORTED_VERSIONS};

    fn schema() -> Value {
        serde_json::from_str(JSON_SCHEMA).expect("the schema is JSON")
    }

    fn at<'s>(schema: &'s Value, pointer: &str) -> &'s Value {
        schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("the schema has nothing at `{pointer}`"))
    }

    fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        items.into_iter().map(str::to_owned).collect()
    }

    fn concat(lists: &[&[&str]]) -> BTreeSet<String> {
        set(lists.iter().flat_map(|l| l.iter().copied()))
    }

    /// The property names of the object schema at `pointer`.
    fn keys(schema: &Value, pointer: &str) -> BTreeSet<String> {
        at(schema, &format!("{pointer}/properties"))
            .as_object()
            .unwrap_or_else(|| panic!("`{pointer}/properties` is not an object"))
            .keys()
            .cloned()
            .collect()
    }

    /// The values of the `enum` at `pointer`.
    fn enum_at(schema: &Value, pointer: &str) -> BTreeSet<String> {
        at(schema, &format!("{pointer}/enum"))
            .as_array()
            .unwrap_or_else(|| panic!("`{pointer}/enum` is not a list"))
            .iter()
            .map(|v| v.as_str().expect("enum values are strings").to_owned())
            .collect()
    }

    /// The Key Vault, storage key, SAS, SQL, Cosmos DB and token forms of `from`:
    /// their definitions in the schema, and the decoder's keys for each
    /// (`Form::keys` in decode/env.rs, plus the keys every form has).
    fn from_forms() -> [(&'static str, &'static [&'static str]); 6] {
        [
            ("keyvault", KEYVAULT_KEYS),
            ("storage_key", STORAGE_KEY_KEYS),
            ("storage_sas", SAS_KEYS),
            ("sql", SQL_KEYS),
            ("cosmosdb", COSMOS_KEYS),
            ("token", TOKEN_KEYS),
        ]
    }

    /// Every object schema that mirrors a key list of the decoder, with that list.
    fn key_lists() -> Vec<(String, BTreeSet<String>)> {
        let mut lists = vec![
            (String::new(), set(TOP_KEYS.iter().copied())),
            ("/definitions/store".into(), set(all_store_keys())),
            (
                "/definitions/storeManagedIdentity".into(),
                concat(&[COMMON_KEYS, MANAGED_IDENTITY_ONLY]),
            ),
            (
                "/definitions/storeKeyVault".into(),
                concat(&[COMMON_KEYS, KEYVAULT_ONLY]),
            ),
            ("/definitions/identity".into(), concat(&[IDENTITY_KEYS])),
            ("/definitions/auth".into(), concat(&[AUTH_KEYS])),
            ("/definitions/cloudEndpoints".into(), concat(&[CLOUD_KEYS])),
            ("/definitions/resource".into(), concat(&[RESOURCE_KEYS])),
            ("/definitions/cache".into(), concat(&[CACHE_KEYS])),
            (
                "/definitions/tokenCache".into(),
                concat(&[TOKEN_CACHE_KEYS]),
            ),
            (
                "/definitions/secretCache".into(),
                concat(&[SECRET_CACHE_KEYS]),
            ),
            (
                "/definitions/performance".into(),
                concat(&[PERFORMANCE_KEYS]),
            ),
            ("/definitions/debug".into(), concat(&[DEBUG_KEYS])),
            (
                "/definitions/fallback".into(),
                set(FALLBACK_TYPES
                    .iter()
                    .flat_map(|t| fallback_keys(t).iter().copied())),
            ),
            ("/definitions/variable".into(), concat(&[VARIABLE_KEYS])),
            ("/definitions/from".into(), set(all_from_keys().to_vec())),
        ];
        for kind in FALLBACK_TYPES {
            lists.push((
                format!("/definitions/fallbackSources/{kind}"),
                concat(&[fallback_keys(kind)]),
            ));
        }
        for (form, form_keys) in from_forms() {
            lists.push((
                format!("/definitions/fromForms/{form}"),
                concat(&[COMMON_FROM_KEYS, form_keys]),
            ));
        }
        lists
    }

    #[test]
    fn is_json_and_declares_draft_07() {
        let schema = schema();
        assert_eq!(
            schema["$schema"], "http://json-schema.org/draft-07/schema#",
            "yaml-language-server supports draft 7 best"
        );
        assert!(
            schema["$id"]
                .as_str()
                .is_some_and(|id| id.starts_with("https://"))
        );
        assert!(schema["title"].is_string());
        assert!(schema["definitions"].is_object());
        assert!(
            JSON_SCHEMA.ends_with('\n'),
            "`dsops schema` prints the file as is"
        );
    }

    #[test]
    fn every_object_has_exactly_the_decoders_keys() {
        let schema = schema();
        for (pointer, expected) in key_lists() {
            assert_eq!(
                keys(&schema, &pointer),
                expected,
                "the properties of `{pointer}` differ from the decoder's keys"
            );
            assert_eq!(
                at(&schema, &pointer)["additionalProperties"],
                Value::Bool(false),
                "`{pointer}` must reject unknown keys, as the decoder does"
            );
        }
    }

    #[test]
    fn the_store_keys_split_by_type_as_in_the_decoder() {
        // Both types share `COMMON_KEYS`; `all_store_keys` is the three lists together.
        assert_eq!(
            set(all_store_keys()),
            concat(&[COMMON_KEYS, MANAGED_IDENTITY_ONLY, KEYVAULT_ONLY])
        );
        let schema = schema();
        let branches = at(&schema, "/definitions/store/allOf")
            .as_array()
            .expect("allOf is a list");
        let branch_types: BTreeSet<String> = branches
            .iter()
            .map(|b| {
                b["if"]["properties"]["type"]["const"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(branch_types, set(STORE_TYPES.iter().copied()));
    }

    #[test]
    fn every_fallback_type_and_from_form_has_a_branch() {
        let schema = schema();
        let sources = at(&schema, "/definitions/fallbackSources")
            .as_object()
            .unwrap();
        assert_eq!(
            sources.keys().cloned().collect::<BTreeSet<_>>(),
            set(FALLBACK_TYPES.iter().copied())
        );
        let fallback_branches: BTreeSet<String> = at(&schema, "/definitions/fallback/allOf")
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let kind = b["if"]["properties"]["type"]["const"].as_str().unwrap();
                assert_eq!(
                    b["then"]["$ref"],
                    format!("#/definitions/fallbackSources/{kind}")
                );
                kind.to_owned()
            })
            .collect();
        assert_eq!(fallback_branches, set(FALLBACK_TYPES.iter().copied()));

        let forms = at(&schema, "/definitions/fromForms").as_object().unwrap();
        assert_eq!(
            forms.keys().cloned().collect::<BTreeSet<_>>(),
            set(from_forms().iter().map(|(name, _)| *name))
        );
        let targets: BTreeSet<String> = at(&schema, "/definitions/from/allOf")
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["then"]["$ref"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            targets,
            forms
                .keys()
                .map(|name| format!("#/definitions/fromForms/{name}"))
                .collect()
        );
    }

    #[test]
    fn every_enum_is_the_decoders() {
        let schema = schema();
        let enums: Vec<(&str, BTreeSet<String>)> = vec![
            ("/definitions/store/properties/type", concat(&[STORE_TYPES])),
            (
                "/definitions/identity/properties/type",
                concat(&[IDENTITY_TYPES]),
            ),
            (
                "/definitions/cloudName",
                concat(&[CLOUD_NAMES, CLOUD_ALIASES]),
            ),
            (
                "/definitions/resource/properties/type",
                concat(&[RESOURCE_TYPES]),
            ),
            (
                "/definitions/fallback/properties/type",
                concat(&[FALLBACK_TYPES]),
            ),
            (
                "/definitions/fallback/properties/preset",
                concat(&[CI_PRESETS]),
            ),
            (
                "/definitions/from/properties/type",
                concat(&[KEYVAULT_OBJECTS]),
            ),
            (
                "/definitions/from/properties/resource_type",
                concat(&[REFERENCE_RESOURCE_TYPES]),
            ),
            (
                "/definitions/from/properties/operation",
                concat(&[OPERATIONS]),
            ),
            (
                "/definitions/from/properties/key",
                concat(&[STORAGE_KEYS, COSMOS_KEY_NAMES]),
            ),
            (
                "/definitions/fromForms/storage_key/properties/key/allOf/1",
                concat(&[STORAGE_KEYS]),
            ),
            (
                "/definitions/fromForms/cosmosdb/properties/key/allOf/1",
                concat(&[COSMOS_KEY_NAMES]),
            ),
            ("/definitions/from/properties/format", concat(&[FORMATS])),
            (
                "/definitions/from/properties/dialect",
                concat(&[SQL_DIALECTS]),
            ),
            ("/definitions/from/properties/api", concat(&[COSMOS_APIS])),
            (
                "/definitions/from/properties/protocol",
                concat(&[SAS_PROTOCOLS]),
            ),
        ];
        let listed = enums.len();
        for (pointer, expected) in enums {
            assert_eq!(
                enum_at(&schema, pointer),
                expected,
                "`{pointer}` differs from the decoder's keywords"
            );
        }
        // No other enum hides anywhere else.
        let mut all = Vec::new();
        collect(&schema, "", "enum", &mut all);
        assert_eq!(all.len(), listed, "enums at {all:?}");
    }

    /// Pointers of every `keyword` member in `value`.
    fn collect(value: &Value, pointer: &str, keyword: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let child_pointer =
                        format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                    if key == keyword {
                        out.push(pointer.to_owned());
                    }
                    collect(child, &child_pointer, keyword, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    collect(child, &format!("{pointer}/{i}"), keyword, out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn numbers_and_letters_are_the_decoders() {
        let schema = schema();
        assert_eq!(
            at(&schema, "/properties/version/const"),
            &Value::from(SUPPORTED_VERSIONS[0])
        );
        assert_eq!(
            SUPPORTED_VERSIONS,
            [1],
            "version is a `const`: make it an enum"
        );
        assert_eq!(
            at(
                &schema,
                "/definitions/performance/properties/max_concurrent/maximum"
            ),
            &Value::from(MAX_MAX_CONCURRENT)
        );
        assert_eq!(
            at(&schema, "/definitions/debug/properties/log_tokens/const"),
            &Value::Bool(false),
            "the decoder refuses `log_tokens: true`"
        );
        for (key, letters) in [
            ("permissions", SAS_PERMISSIONS),
            ("services", SAS_SERVICES),
            ("resource_types", SAS_RESOURCE_TYPES),
        ] {
            assert_eq!(
                at(
                    &schema,
                    &format!("/definitions/from/properties/{key}/pattern")
                ),
                &Value::from(format!("^(?:[{letters}]+)$|\\$\\{{")),
                "`{key}` letters"
            );
        }
    }

    #[test]
    fn every_pattern_lets_interpolation_through_where_the_decoder_interpolates() {
        // Keys that are never interpolated: names of variables, and durations
        // (which are parsed as written).
        let not_interpolated = [
            "/definitions/variableName",
            "/definitions/entryName",
            "/definitions/duration",
            "/definitions/negativeDuration",
            "/definitions/positiveDuration/not",
            "/definitions/fallback/properties/client_id_env",
            "/definitions/fallback/properties/client_secret_env",
            "/definitions/fallback/properties/tenant_id_env",
            "/definitions/fallback/properties/token_env",
        ];
        let schema = schema();
        let mut patterns = Vec::new();
        collect(&schema, "", "pattern", &mut patterns);
        assert!(patterns.len() > 20, "{patterns:?}");
        for pointer in patterns {
            let pattern = at(&schema, &format!("{pointer}/pattern")).as_str().unwrap();
            if not_interpolated.contains(&pointer.as_str()) {
                assert!(!pattern.ends_with("|\\$\\{"), "{pointer}: {pattern}");
            } else {
                assert!(
                    pattern.ends_with(")$|\\$\\{"),
                    "{pointer} must accept any `${{NAME}}` string: {pattern}"
                );
            }
        }
    }

    #[test]
    fn every_property_is_documented() {
        let schema = schema();
        let mut maps = Vec::new();
        collect(&schema, "", "properties", &mut maps);
        let mut checked = 0;
        for pointer in maps {
            // Conditions and their consequences restate properties documented elsewhere.
            if ["/if", "/then", "/not"].iter().any(|c| pointer.contains(c)) {
                continue;
            }
            let properties = at(&schema, &format!("{pointer}/properties"))
                .as_object()
                .unwrap();
            for (name, property) in properties {
                let documented = |p: &Value| {
                    p["description"].as_str().is_some_and(|d| !d.is_empty())
                        && p["markdownDescription"]
                            .as_str()
                            .is_some_and(|d| !d.is_empty())
                };
                // A reference to a property documented elsewhere, possibly narrowed.
                let reference = property["$ref"]
                    .as_str()
                    .or_else(|| property["allOf"][0]["$ref"].as_str());
                match reference {
                    Some(target) if target.contains("/properties/") => {
                        let target = target.trim_start_matches('#');
                        assert!(
                            documented(at(&schema, target)),
                            "{pointer}/properties/{name} -> {target} is undocumented"
                        );
                    }
                    _ => assert!(
                        documented(property),
                        "{pointer}/properties/{name} needs a description and a markdownDescription"
                    ),
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} properties");
    }
}
