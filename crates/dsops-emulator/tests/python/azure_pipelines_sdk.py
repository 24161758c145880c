"""azure-identity's AzurePipelinesCredential against the dsops emulator.

Run by crates/dsops-emulator/tests/it/pipelines_sdk.rs with the interpreter
of target/python-sdk (scripts/install-python-sdk) and only these variables:

    SYSTEM_OIDCREQUESTURI                the emulator's Azure Pipelines OIDC endpoint
    REQUESTS_CA_BUNDLE                   the emulator's CA
    EMULATOR_HTTPS_PORT                  the emulator's HTTPS port
    EMULATOR_TENANT_ID, EMULATOR_CLIENT_ID
    EMULATOR_SERVICE_CONNECTION_ID, EMULATOR_ACCESS_TOKEN
    EMULATOR_VAULT, EMULATOR_SECRET

The official credential requests the job's OIDC token for the service
connection from SYSTEM_OIDCREQUESTURI, exchanges it at the emulator's Entra
ID, and SecretClient reads one secret. One JSON line: the SHA-256 of the
value, never the value. Names resolve to loopback only, as in keyvault_sdk.py.
"""

import hashlib
import json
import os
import socket
import sys


def _env(name):
    value = os.environ.get(name)
    if not value:
        print(f"azure_pipelines_sdk.py: {name} is not set", file=sys.stderr)
        sys.exit(2)
    return value


HTTPS_PORT = int(_env("EMULATOR_HTTPS_PORT"))
_env("SYSTEM_OIDCREQUESTURI")
_env("REQUESTS_CA_BUNDLE")
_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, port, *args, **kwargs):
    name = (host.decode("ascii") if isinstance(host, bytes) else (host or "")).lower().rstrip(".")
    if name.endswith(".vault.azure.net"):
        if port in (443, "443", "https", None):
            port = HTTPS_PORT
        return _real_getaddrinfo("127.0.0.1", port, *args, **kwargs)
    if name in ("127.0.0.1", "localhost"):
        return _real_getaddrinfo("127.0.0.1", port, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, f"only loopback, not {host!r}")


socket.getaddrinfo = _loopback_only

from azure.identity import AzurePipelinesCredential  # noqa: E402
from azure.keyvault.secrets import SecretClient  # noqa: E402

with AzurePipelinesCredential(
    tenant_id=_env("EMULATOR_TENANT_ID"),
    client_id=_env("EMULATOR_CLIENT_ID"),
    service_connection_id=_env("EMULATOR_SERVICE_CONNECTION_ID"),
    system_access_token=_env("EMULATOR_ACCESS_TOKEN"),
    authority=f"https://127.0.0.1:{HTTPS_PORT}",
    disable_instance_discovery=True,
) as credential, SecretClient(
    vault_url=f"https://{_env('EMULATOR_VAULT')}.vault.azure.net", credential=credential
) as client:
    secret = client.get_secret(_env("EMULATOR_SECRET"))
    print(
        json.dumps(
            {
                "name": secret.name,
                "value_sha256": hashlib.sha256(secret.value.encode("utf-8")).hexdigest(),
            },
            sort_keys=True,
        ),
        flush=True,
    )
