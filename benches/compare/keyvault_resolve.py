"""What most pipelines do instead of dsops: the official Azure SDK for Python
(`azure-identity` + `azure-keyvault-secrets`) reading a list of secrets,
one after the other or with a thread pool.

Run by `dsops-bench` (crates/dsops-bench) with the interpreter of
target/python-sdk (scripts/install-python-sdk) against `dsops emulator`:

    python keyvault_resolve.py --task TASK.json --mode seq|pool [--workers N]

TASK.json: {"secrets": [[VAULT, NAME], ...]}. The vault is addressed as
https://VAULT.vault.azure.net (no port, as production code does); the
environment gives App Service's managed identity endpoint
(IDENTITY_ENDPOINT, IDENTITY_HEADER), the emulator's CA (REQUESTS_CA_BUNDLE)
and its HTTPS port (EMULATOR_HTTPS_PORT).

Prints one JSON line: seconds spent importing the SDK, seconds spent
resolving (credential and clients made, every value read), how many values,
and the SHA-256 of the values joined by newlines (never a value).

No traffic leaves loopback: `socket.getaddrinfo` resolves only 127.0.0.1,
localhost and `*.vault.azure.net` (to the emulator) and refuses any other
name, so a stray request (IMDS at 169.254.169.254, login.microsoftonline.com)
fails instead of leaving the machine.
"""

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

HTTPS_PORT = int(os.environ["EMULATOR_HTTPS_PORT"])
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
    raise socket.gaierror(socket.EAI_NONAME, f"keyvault_resolve.py resolves only loopback, not {host!r}")


socket.getaddrinfo = _loopback_only_getaddrinfo

from azure.identity import ManagedIdentityCredential  # noqa: E402
from azure.keyvault.secrets import SecretClient  # noqa: E402

IMPORTED = time.perf_counter()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", required=True)
    parser.add_argument("--mode", choices=("seq", "pool"), required=True)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    with open(args.task, encoding="utf-8") as f:
        secrets = [tuple(s) for s in json.load(f)["secrets"]]

    begun = time.perf_counter()
    credential = ManagedIdentityCredential()
    clients = {}
    for vault, _ in secrets:
        if vault not in clients:
            clients[vault] = SecretClient(vault_url=f"https://{vault}.vault.azure.net", credential=credential)

    def get(item):
        vault, name = item
        return clients[vault].get_secret(name).value

    if args.mode == "seq":
        values = [get(item) for item in secrets]
    else:
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            values = list(pool.map(get, secrets))
    done = time.perf_counter()
    for client in clients.values():
        client.close()
    credential.close()

    digest = hashlib.sha256("\n".join(values).encode("utf-8")).hexdigest()
    print(
        json.dumps(
            {
                "import_s": IMPORTED - STARTED,
                "resolve_s": done - begun,
                "count": len(values),
                "sha256": digest,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
