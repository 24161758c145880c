// The official Azure SDK for JavaScript (@azure/identity,
// @azure/keyvault-secrets) against `dsops emulator`: ManagedIdentityCredential
// through whichever managed identity endpoint the environment names (App
// Service's IDENTITY_ENDPOINT/IDENTITY_HEADER, or IMDS at
// AZURE_POD_IDENTITY_AUTHORITY_HOST), then SecretClient.getSecret over HTTPS
// trusting the emulator's CA (NODE_EXTRA_CA_CERTS), with the SDK's own check
// of Key Vault's challenge resource.
//
// Usage: node azure_sdk.js MODULES VAULT_URL SECRET...
// Prints one JSON line per secret: {"secret", "sha256", "contentType"} or
// {"secret", "error", "status", "code"}; never a value.
"use strict";

const path = require("path");
const crypto = require("crypto");
const dns = require("dns");

const [modules, vaultUrl, ...secrets] = process.argv.slice(2);
const load = (name) => require(path.join(modules, "node_modules", name));
const { ManagedIdentityCredential } = load("@azure/identity");
const { SecretClient } = load("@azure/keyvault-secrets");

// `*.localhost` is loopback (RFC 6761); not every resolver knows it.
const lookup = dns.lookup;
dns.lookup = (host, options, callback) => {
  if (typeof options === "function") {
    callback = options;
    options = {};
  }
  if (typeof host === "string" && host.endsWith(".localhost")) {
    return options && options.all
      ? callback(null, [{ address: "127.0.0.1", family: 4 }])
      : callback(null, "127.0.0.1", 4);
  }
  return lookup(host, options, callback);
};

async function main() {
  const client = new SecretClient(vaultUrl, new ManagedIdentityCredential());
  for (const name of secrets) {
    try {
      const secret = await client.getSecret(name);
      const sha256 = crypto.createHash("sha256").update(secret.value).digest("hex");
      console.log(JSON.stringify({ secret: name, sha256, contentType: secret.properties.contentType ?? null }));
    } catch (e) {
      console.log(
        JSON.stringify({
          secret: name,
          error: e.name,
          status: e.statusCode ?? null,
          code: e.code ?? null,
        }),
      );
    }
  }
}

main().catch((e) => {
  console.error(`azure_sdk.js: ${e.name}`);
  process.exit(2);
});
