"""Loaded by every Python process whose PYTHONPATH holds this directory
(crates/dsops-emulator/tests/it/azure_cli.rs puts it there for `az`).

Name resolution as RFC 6761 section 6.3 asks for `localhost` names, and
nothing else: `localhost`, any `*.localhost` name and the loopback literals
resolve to loopback; every other name or address is refused. So the Azure CLI
reaches the emulator at `https://NAME.vault.localhost:PORT` (which glibc's
resolver does not map, and dsops and curl do), and a stray request (IMDS at its
link-local address, login.microsoftonline.com, telemetry) fails on the machine
instead of leaving it.

Each refused name is appended, one per line, to the file named by
DSOPS_REFUSED_NAMES_FILE when it is set, so the test can say what was tried.
"""

import os
import socket

_real_getaddrinfo = socket.getaddrinfo
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _loopback_only_getaddrinfo(host, port, *args, **kwargs):
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else (host or "")
    name = name.lower().rstrip(".")
    if name in ("::1",):
        return _real_getaddrinfo("::1", port, *args, **kwargs)
    if name in _LOOPBACK or name.endswith(".localhost"):
        return _real_getaddrinfo("127.0.0.1", port, *args, **kwargs)
    record = os.environ.get("DSOPS_REFUSED_NAMES_FILE")
    if record:
        with open(record, "a", encoding="utf-8") as f:
            f.write(f"{name}:{port}\n")
    raise socket.gaierror(
        socket.EAI_NONAME,
        f"resolves only localhost names (RFC 6761) in this test, not {host!r}",
    )


socket.getaddrinfo = _loopback_only_getaddrinfo
