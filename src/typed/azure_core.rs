//! [`Credential`] as `azure_core`'s `TokenCredential` (crate feature
//! `azure_core`), so that `azure_*` clients sign in through dsops's chain.

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error, ErrorKind};
use secrecy::ExposeSecret;

use super::Credential;

#[async_trait::async_trait]
impl TokenCredential for Credential {
    /// A token for the one scope asked for (Azure SDK clients ask for one:
    /// `https://vault.azure.net/.default`...), valid for at least the
    /// store's `token_cache.buffer`, through the store's chain and token
    /// cache. The error names each identity source's answer, never a token.
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let [scope] = scopes else {
            return Err(Error::with_message(
                ErrorKind::Credential,
                format!(
                    "dsops gets a token for one scope at a time; {} were asked for",
                    scopes.len()
                ),
            ));
        };
        let (token, expires_on) = self
            .token(scope)
            .await
            .map_err(|e| Error::with_message(ErrorKind::Credential, e.to_string()))?;
        Ok(AccessToken::new(
            token.expose_secret().to_owned(),
            azure_core::time::OffsetDateTime::from(expires_on),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use azure_core::credentials::TokenCredential;
    use dsops_config::{LoadOptions, Source};
    use dsops_emulator::testing::StateBuilder;

    use crate::engine::{Engine, EngineOptions};

    #[tokio::test(flavor = "multi_thread")]
    async fn an_azure_sdk_credential_from_the_stores_chain() {
        let emulator = dsops_emulator::Emulator::start(dsops_emulator::Options {
            state: StateBuilder::new().system_identity("vm").build(),
            ..dsops_emulator::Options::default()
        })
        .await
        .unwrap();
        let env: HashMap<String, String> = [(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_owned(),
            emulator.http_url().unwrap_or_default(),
        )]
        .into();
        let text = "secretStores:\n  azure:\n    type: azure.managed_identity\n    fallback: [{ type: managed_identity }]\nenvs:\n  dev:\n    A: a\n";
        let loaded = dsops_config::load(
            Source::new("dsops.yaml", text),
            &env,
            LoadOptions::resolve(),
        );
        let engine = Engine::new(
            loaded.config().unwrap().clone(),
            ".",
            Arc::new(env),
            EngineOptions::default(),
        );
        let credential = super::Credential {
            store: engine.store("azure").unwrap(),
        };
        let token = credential
            .get_token(&["https://storage.azure.com/.default"], None)
            .await
            .unwrap();
        assert!(token.expires_on > azure_core::time::OffsetDateTime::now_utc());
        let claims = crate::azure::identity::TokenClaims::read(&secrecy::SecretString::from(
            token.token.secret().to_owned(),
        ));
        assert_eq!(
            claims.audience.as_deref(),
            Some("https://storage.azure.com")
        );
        // Two scopes: an error, not a token for one of them.
        let err = credential
            .get_token(&["https://a/.default", "https://b/.default"], None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("one scope at a time"), "{err}");
        assert!(!format!("{credential:?}").contains("eyJ"));
    }
}
