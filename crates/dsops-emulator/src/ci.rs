//! The OIDC issuers of CI systems other than GitHub Actions (state key
//! `ci:`), each issuing tokens with its CI's real issuer URL and claim
//! shapes, so that workload identity federation can be tested end to end:
//!
//! - Azure Pipelines: issuer `https://vstoken.dev.azure.com/{organization id}`,
//!   subject `sc://{organization}/{project}/{service connection}`, requested
//!   by `POST {org}/{project id}/_apis/distributedtask/hubs/{hub}/plans/{plan}/jobs/{job}/oidctoken`
//!   (what `SYSTEM_OIDCREQUESTURI` names) with `System.AccessToken`;
//! - GitLab CI: issuer the instance URL (`https://gitlab.com`), subject
//!   `project_path:{group}/{project}:ref_type:{branch|tag}:ref:{ref}`, the
//!   ID token a job declares under `id_tokens:`;
//! - CircleCI: issuer `https://oidc.circleci.com/org/{org id}`, subject
//!   `org/{org id}/project/{project id}/user/{user id}`, audience the org id;
//! - Buildkite: issuer `https://agent.buildkite.com`, subject the compound
//!   `organization:{org}:pipeline:{pipeline}:ref:{ref}:commit:{sha}:step:{key}`
//!   (or one immutable claim, `--subject-claim pipeline_id`).
//!
//! The runner puts GitLab's, CircleCI's and Buildkite's tokens into the job
//! (a variable, or a command's output): the emulator mints them through
//! [`crate::Emulator::mint_oidc_token`] and the admin API, by the names
//! `gitlab`, `circleci` and `buildkite`. docs/emulator.md names the sources.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use crate::EmulatorError;
use crate::crypto::{guid_from, random_b64, same_secret};
use crate::http::{Request, Response};
use crate::tokens::Issuer;

/// The names the CI issuers are hosted under (keys of `issuers` are not
/// allowed to take them).
pub(crate) const NAMES: &[&str] = &["azure_pipelines", "gitlab", "circleci", "buildkite"];

/// `ci:` of the state file. Every CI is served, with the defaults below
/// unless the state says otherwise.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CiSpec {
    /// Azure Pipelines.
    pub azure_pipelines: AzurePipelinesSpec,
    /// GitLab CI.
    pub gitlab: CiIssuerSpec,
    /// CircleCI.
    pub circleci: CiIssuerSpec,
    /// Buildkite.
    pub buildkite: CiIssuerSpec,
}

/// Azure Pipelines: an organization, a project and its service connections.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AzurePipelinesSpec {
    /// The organization's name (default `contoso`).
    pub organization: Option<String>,
    /// The organization's id, in the issuer URL (default: derived from the name).
    pub organization_id: Option<String>,
    /// The project's name (default `web`).
    pub project: Option<String>,
    /// Service connections with workload identity federation: name → id
    /// (default: `production`, with an id derived from its name).
    pub service_connections: BTreeMap<String, String>,
    /// The `System.AccessToken` the OIDC endpoint accepts (default: random).
    pub access_token: Option<String>,
    /// Token lifetime in seconds (default 3600).
    pub lifetime: Option<u64>,
}

/// A CI whose runner hands the job its token: its claims.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CiIssuerSpec {
    /// The `iss` claim (default: the CI's own, e.g. `https://gitlab.com`).
    pub issuer: Option<String>,
    /// Token lifetime in seconds (default 3600).
    pub lifetime: Option<u64>,
    /// Claims of the job, over the defaults (`sub` too).
    pub claims: BTreeMap<String, String>,
}

/// The running Azure Pipelines organization.
#[derive(Debug)]
pub(crate) struct Pipelines {
    organization: String,
    project: String,
    /// id → name.
    connections: BTreeMap<String, String>,
    pub(crate) access_token: String,
}

/// The CI issuers, by name, and Azure Pipelines' endpoint.
pub(crate) fn build(spec: &CiSpec) -> Result<(Vec<Issuer>, Pipelines), EmulatorError> {
    let ap = &spec.azure_pipelines;
    let organization = ap
        .organization
        .clone()
        .unwrap_or_else(|| "contoso".to_owned());
    let organization_id = ap
        .organization_id
        .clone()
        .unwrap_or_else(|| guid_from(&format!("azure-pipelines-organization:{organization}")));
    let project = ap.project.clone().unwrap_or_else(|| "web".to_owned());
    let connections: BTreeMap<String, String> = if ap.service_connections.is_empty() {
        let id = guid_from("azure-pipelines-service-connection:production");
        BTreeMap::from([(id, "production".to_owned())])
    } else {
        ap.service_connections
            .iter()
            .map(|(name, id)| (id.to_ascii_lowercase(), name.clone()))
            .collect()
    };
    let pipelines = Pipelines {
        organization: organization.clone(),
        project: project.clone(),
        connections,
        access_token: match &ap.access_token {
            Some(t) => t.clone(),
            None => random_b64(24)?,
        },
    };
    let azure_pipelines = Issuer::ci(
        "azure_pipelines",
        format!("https://vstoken.dev.azure.com/{organization_id}"),
        ap.lifetime,
        BTreeMap::new(),
    )?;

    let gitlab_defaults = [
        ("namespace_id", "72"),
        ("namespace_path", "group"),
        ("project_id", "20"),
        ("project_path", "group/project"),
        ("user_id", "1"),
        ("user_login", "dev"),
        ("pipeline_id", "1212"),
        ("pipeline_source", "push"),
        ("job_id", "3434"),
        ("ref", "main"),
        ("ref_type", "branch"),
        ("ref_path", "refs/heads/main"),
        ("ref_protected", "true"),
        ("runner_id", "1"),
        ("runner_environment", "gitlab-hosted"),
        ("sha", "714a629c0b401fdce83e847fc9589983fc6f46bc"),
        ("project_visibility", "private"),
    ];
    let gitlab = ci_issuer(
        "gitlab",
        &spec.gitlab,
        "https://gitlab.com",
        &gitlab_defaults,
        |c| {
            format!(
                "project_path:{}:ref_type:{}:ref:{}",
                claim(c, "project_path"),
                claim(c, "ref_type"),
                claim(c, "ref")
            )
        },
    )?;

    let org = guid_from("circleci-organization");
    let circleci_defaults = [
        ("oidc.circleci.com/org-id", org.as_str()),
        (
            "oidc.circleci.com/project-id",
            "6b2d5a43-2b2d-4e58-9d5a-2b7e7a1d0a5c",
        ),
        (
            "oidc.circleci.com/user-id",
            "0f6f8e5e-3c4e-4c1d-9d1e-5a2b7c9e8d01",
        ),
        ("oidc.circleci.com/context-ids", "[]"),
    ];
    let circleci_issuer = spec.circleci.issuer.clone().unwrap_or_else(|| {
        let org = spec
            .circleci
            .claims
            .get("oidc.circleci.com/org-id")
            .map_or(org.as_str(), String::as_str);
        format!("https://oidc.circleci.com/org/{org}")
    });
    let circleci = ci_issuer(
        "circleci",
        &CiIssuerSpec {
            issuer: Some(circleci_issuer),
            ..spec.circleci.clone()
        },
        "",
        &circleci_defaults,
        |c| {
            format!(
                "org/{}/project/{}/user/{}",
                claim(c, "oidc.circleci.com/org-id"),
                claim(c, "oidc.circleci.com/project-id"),
                claim(c, "oidc.circleci.com/user-id")
            )
        },
    )?;

    let buildkite_defaults = [
        ("organization_slug", "acme-inc"),
        ("organization_id", "0b8c2a7e-6a5d-4e1f-9c3b-8d7e6f5a4b3c"),
        ("pipeline_slug", "deploy"),
        ("pipeline_id", "2f1e0d9c-8b7a-4c6d-5e4f-3a2b1c0d9e8f"),
        ("build_number", "42"),
        ("build_branch", "main"),
        ("build_commit", "714a629c0b401fdce83e847fc9589983fc6f46bc"),
        ("step_key", "deploy"),
        ("job_id", "0190b4f2-1c3d-7e5f-8a9b-0c1d2e3f4a5b"),
        ("agent_id", "0190b4f2-1c3d-7e5f-8a9b-0c1d2e3f4a5c"),
    ];
    let buildkite = ci_issuer(
        "buildkite",
        &spec.buildkite,
        "https://agent.buildkite.com",
        &buildkite_defaults,
        |c| {
            format!(
                "organization:{}:pipeline:{}:ref:refs/heads/{}:commit:{}:step:{}",
                claim(c, "organization_slug"),
                claim(c, "pipeline_slug"),
                claim(c, "build_branch"),
                claim(c, "build_commit"),
                claim(c, "step_key")
            )
        },
    )?;
    Ok((
        vec![azure_pipelines, gitlab, circleci, buildkite],
        pipelines,
    ))
}

fn claim<'c>(claims: &'c BTreeMap<String, String>, name: &str) -> &'c str {
    claims.get(name).map_or("", String::as_str)
}

/// An issuer with `defaults` overridden by the state's claims, and `sub`
/// made by `subject` from them unless the state gives it.
fn ci_issuer(
    name: &str,
    spec: &CiIssuerSpec,
    default_url: &str,
    defaults: &[(&str, &str)],
    subject: impl Fn(&BTreeMap<String, String>) -> String,
) -> Result<Issuer, EmulatorError> {
    let mut claims: BTreeMap<String, String> = defaults
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    claims.extend(spec.claims.clone());
    if !claims.contains_key("sub") {
        let sub = subject(&claims);
        claims.insert("sub".to_owned(), sub);
    }
    let url = spec
        .issuer
        .clone()
        .unwrap_or_else(|| default_url.to_owned());
    Issuer::ci(name, url, spec.lifetime, claims)
}

impl Pipelines {
    /// The subject of a service connection's tokens.
    fn subject(&self, name: &str) -> String {
        format!("sc://{}/{}/{name}", self.organization, self.project)
    }
}

/// Azure DevOps's error body (a `VssServiceException`'s JSON form).
fn vss_error(status: u16, type_key: &str, message: &str) -> Response {
    Response::json(
        status,
        &json!({
            "$id": "1",
            "innerException": null,
            "message": message,
            "typeName": format!("Microsoft.TeamFoundation.DistributedTask.WebApi.{type_key}, Microsoft.TeamFoundation.DistributedTask.WebApi"),
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3000,
        }),
    )
}

/// `POST {org}/{project id}/_apis/distributedtask/hubs/{hub}/plans/{plan}/jobs/{job}/oidctoken?serviceConnectionId=ID&api-version=7.1`
/// with `Authorization: Bearer <System.AccessToken>`: `{"oidcToken": "<jwt>"}`
/// for the service connection, audience `api://AzureADTokenExchange`.
pub(crate) fn oidc_token(pipelines: &Pipelines, issuer: &Issuer, req: &Request) -> Response {
    if req.method != "POST" {
        return crate::services::method_not_allowed(req);
    }
    match req.bearer() {
        Some(token) if same_secret(token, &pipelines.access_token) => {}
        // Azure DevOps answers an unauthenticated call with 401 (and a sign-in page).
        _ => {
            return Response::json(
                401,
                &json!({ "message": "TF400813: The user '' is not authorized to access this resource." }),
            );
        }
    }
    if req.query("api-version").is_none_or(str::is_empty) {
        return vss_error(
            400,
            "VssVersionNotSpecifiedException",
            "The API version for the request is not specified: add `api-version=7.1` to the query.",
        );
    }
    let Some(id) = req.query("serviceConnectionId").filter(|s| !s.is_empty()) else {
        return vss_error(
            400,
            "ArgumentNullException",
            "Value cannot be null.\r\nParameter name: serviceConnectionId",
        );
    };
    let Some(name) = pipelines.connections.get(&id.to_ascii_lowercase()) else {
        return vss_error(
            404,
            "ServiceEndpointNotFoundException",
            &format!("Service connection {id} not found or the job is not authorized to use it."),
        );
    };
    let audience = "api://AzureADTokenExchange";
    let mut claims = serde_json::Map::new();
    claims.insert("sub".to_owned(), pipelines.subject(name).into());
    match issuer.mint(audience, &claims) {
        Ok(token) => Response::json(200, &json!({ "oidcToken": token }))
            .issued(&pipelines.subject(name), audience),
        Err(e) => Response::json(500, &json!({ "message": e.to_string() })),
    }
}

/// The path of the OIDC token endpoint, as `SYSTEM_OIDCREQUESTURI` names it.
pub(crate) fn request_path(pipelines: &Pipelines) -> String {
    format!(
        "/{}/{}/_apis/distributedtask/hubs/build/plans/{}/jobs/{}/oidctoken",
        pipelines.organization,
        guid_from(&format!("azure-pipelines-project:{}", pipelines.project)),
        guid_from("azure-pipelines-plan"),
        guid_from("azure-pipelines-job"),
    )
}

/// The service connections: name and id.
pub(crate) fn connections(pipelines: &Pipelines) -> Vec<(String, String)> {
    pipelines
        .connections
        .iter()
        .map(|(id, name)| (name.clone(), id.clone()))
        .collect()
}
