"""The official Azure SDK for Python against the dsops emulator.

Run by crates/dsops-emulator/tests/it/python_sdk.rs with the interpreter of
target/python-sdk (scripts/install-python-sdk) and only these variables:

    IDENTITY_ENDPOINT, IDENTITY_HEADER   App Service managed identity (plain http)
    REQUESTS_CA_BUNDLE                   the emulator's CA
    EMULATOR_HTTPS_PORT                  the emulator's HTTPS port
    EMULATOR_TENANT_ID                   the tenant
    EMULATOR_VAULT                       a vault name (`dev-vault`)
    EMULATOR_CI_CLIENT_ID, EMULATOR_CI_CLIENT_SECRET
    EMULATOR_WORKER_CLIENT_ID, EMULATOR_OUTSIDER_CLIENT_ID

Each case prints one JSON object on a line: what was asked, what came back,
and for a secret the SHA-256 of its value, never the value. The script checks
every error it expects (class, status, Key Vault code) itself and exits 1 on
anything unexpected; the Rust test compares the hashes with the seeded values.

No traffic leaves loopback: `socket.getaddrinfo` resolves only 127.0.0.1,
localhost and `*.vault.azure.net` (to the emulator) and refuses every other
name, so a stray request (to login.microsoftonline.com, or IMDS at
169.254.169.254, say) never leaves the machine: it fails instead.
"""

import hashlib
import json
import os
import socket
import sys

def _env(name):
    # A missing variable is a bug of the Rust test: say which, exit 2.
    value = os.environ.get(name)
    if not value:
        print(f"keyvault_sdk.py: the environment variable {name} is not set", file=sys.stderr)
        sys.exit(2)
    return value


HTTPS_PORT = int(_env("EMULATOR_HTTPS_PORT"))
TENANT_ID = _env("EMULATOR_TENANT_ID")
VAULT = _env("EMULATOR_VAULT")
CI_CLIENT_ID = _env("EMULATOR_CI_CLIENT_ID")
CI_CLIENT_SECRET = _env("EMULATOR_CI_CLIENT_SECRET")
WORKER_CLIENT_ID = _env("EMULATOR_WORKER_CLIENT_ID")
OUTSIDER_CLIENT_ID = _env("EMULATOR_OUTSIDER_CLIENT_ID")
for _name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "REQUESTS_CA_BUNDLE"):
    _env(_name)

# The vault is addressed by its real name, https://NAME.vault.azure.net, with
# no port: the Python analogue of `curl --connect-to NAME.vault.azure.net:443:
# 127.0.0.1:PORT`. TLS (SNI, certificate name check against the emulator CA),
# the Host header and the ids the vault returns all carry the real name.
#
# Why no port: azure-keyvault-secrets 4.12.0 verifies the challenge's
# resource against the vault URL's *authority* (`_validate_challenge_resource`,
# port included unless it is 443). The emulator names the port in its
# challenge's resource when a client uses one (so `Emulator::vault_url()`,
# https://NAME.vault.localhost:PORT, passes too), but production code uses
# https://NAME.vault.azure.net with no port, and that is what this checks,
# with the verification ON.
VAULT_URL = f"https://{VAULT}.vault.azure.net"

_real_getaddrinfo = socket.getaddrinfo


def _loopback_only_getaddrinfo(host, port, *args, **kwargs):
    name = host.decode("ascii") if isinstance(host, bytes) else (host or "")
    name = name.lower().rstrip(".")
    if name.endswith(".vault.azure.net"):
        if port in (443, "443", "https", None):
            port = HTTPS_PORT
        return _real_getaddrinfo("127.0.0.1", port, *args, **kwargs)
    if name in ("127.0.0.1", "localhost"):
        return _real_getaddrinfo("127.0.0.1", port, *args, **kwargs)
    raise socket.gaierror(
        socket.EAI_NONAME,
        f"keyvault_sdk.py resolves only loopback and *.vault.azure.net, not {host!r}",
    )


socket.getaddrinfo = _loopback_only_getaddrinfo

# Imported after the patch, so that nothing can have resolved a name before.
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError  # noqa: E402
from azure.identity import ClientSecretCredential, ManagedIdentityCredential  # noqa: E402
from azure.keyvault.secrets import SecretClient  # noqa: E402
from azure.keyvault.secrets._shared import http_challenge_cache  # noqa: E402

_failures = []


def _emit(record):
    print(json.dumps(record, sort_keys=True), flush=True)


def _sha256(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _client(credential):
    # The challenge cache is per process, keyed by the vault's authority: clear
    # it so every client runs Key Vault's whole challenge protocol (401, token
    # for the challenge's resource and tenant, retry), as a new process would.
    http_challenge_cache.clear()
    return SecretClient(vault_url=VAULT_URL, credential=credential)


def expect_secret(case, client, name):
    """get_secret must succeed; print the value's hash, not the value."""
    record = {"case": case, "name": name}
    try:
        secret = client.get_secret(name)
    except Exception as error:  # noqa: BLE001 - any error is a failure, reported
        record.update(outcome="error", exception=type(error).__name__, detail=str(error)[:500])
        _failures.append(record)
        _emit(record)
        return
    expected_prefix = f"{VAULT_URL}/secrets/{name}/"
    record.update(
        outcome="ok",
        secret_name=secret.name,
        id=secret.id,
        version=secret.properties.version,
        enabled=secret.properties.enabled,
        content_type=secret.properties.content_type,
        value_sha256=_sha256(secret.value) if secret.value is not None else None,
    )
    problems = []
    if secret.name != name:
        problems.append(f"name {secret.name!r} is not {name!r}")
    if not (secret.id or "").startswith(expected_prefix) or not secret.properties.version:
        problems.append(f"id {secret.id!r} is not {expected_prefix}VERSION")
    if secret.value is None:
        problems.append("no value")
    if problems:
        record["unexpected"] = problems
        _failures.append(record)
    _emit(record)


def expect_error(case, client, name, exception, status, code, inner_code=None):
    """get_secret must raise `exception` with this status and Key Vault error code."""
    record = {"case": case, "name": name}
    try:
        client.get_secret(name)
    except HttpResponseError as error:
        inner = None
        model_error = getattr(getattr(error, "model", None), "error", None)
        if model_error is not None and getattr(model_error, "inner_error", None) is not None:
            inner = model_error.inner_error.code
        elif error.error is not None and isinstance(error.error.innererror, dict):
            inner = error.error.innererror.get("code")
        record.update(
            outcome="error",
            exception=type(error).__name__,
            status=error.status_code,
            code=error.error.code if error.error is not None else None,
            inner_code=inner,
        )
        problems = []
        if not isinstance(error, exception):
            problems.append(f"raised {type(error).__name__}, expected {exception.__name__}")
        if error.status_code != status:
            problems.append(f"status {error.status_code}, expected {status}")
        if record["code"] != code:
            problems.append(f"code {record['code']!r}, expected {code!r}")
        if inner_code is not None and inner != inner_code:
            problems.append(f"inner error code {inner!r}, expected {inner_code!r}")
        if problems:
            record["unexpected"] = problems
            record["detail"] = str(error)[:500]
            _failures.append(record)
        _emit(record)
        return
    except Exception as error:  # noqa: BLE001 - any other error is a failure, reported
        record.update(outcome="error", exception=type(error).__name__, detail=str(error)[:500])
        record["unexpected"] = [f"raised {type(error).__name__}, expected {exception.__name__}"]
    else:
        record.update(outcome="ok", unexpected=[f"no error, expected {exception.__name__} {status}"])
    _failures.append(record)
    _emit(record)


def main():
    # 1. The host's system-assigned identity (`vm`, Key Vault Secrets User on
    #    the vault), through App Service's IDENTITY_ENDPOINT/IDENTITY_HEADER.
    with ManagedIdentityCredential() as credential, _client(credential) as client:
        expect_secret("managed_identity", client, "database-password")
        expect_secret("managed_identity", client, "api-key")

    # 2. A user-assigned identity chosen by client id (`worker`, Secrets User
    #    on one secret only): that secret is readable, another one is not.
    worker = ManagedIdentityCredential(client_id=WORKER_CLIENT_ID)
    with worker, _client(worker) as client:
        expect_secret("managed_identity_worker", client, "database-password")
        expect_error(
            "managed_identity_worker_out_of_scope",
            client,
            "api-key",
            HttpResponseError,
            403,
            "Forbidden",
            "ForbiddenByRbac",
        )

    # 3. A user-assigned identity without any role (`outsider`): it gets a
    #    token, and Key Vault refuses it.
    outsider = ManagedIdentityCredential(client_id=OUTSIDER_CLIENT_ID)
    with outsider, _client(outsider) as client:
        expect_error(
            "managed_identity_no_role",
            client,
            "database-password",
            HttpResponseError,
            403,
            "Forbidden",
            "ForbiddenByRbac",
        )

    # 4. An application's client secret (`ci`, Secrets Officer) through the
    #    Entra ID v2 endpoints of the emulator.
    with ClientSecretCredential(
        TENANT_ID,
        CI_CLIENT_ID,
        CI_CLIENT_SECRET,
        authority=f"https://127.0.0.1:{HTTPS_PORT}",
        disable_instance_discovery=True,
    ) as credential, _client(credential) as client:
        expect_secret("client_secret", client, "database-password")
        expect_secret("client_secret", client, "api-key")
        expect_error(
            "client_secret_missing",
            client,
            "no-such-secret",
            ResourceNotFoundError,
            404,
            "SecretNotFound",
        )
        expect_error(
            "client_secret_disabled",
            client,
            "retired-token",
            HttpResponseError,
            403,
            "Forbidden",
            "SecretDisabled",
        )

    if _failures:
        print(f"keyvault_sdk.py: {len(_failures)} unexpected outcome(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
