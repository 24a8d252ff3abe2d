// The official Microsoft Graph JavaScript SDK fetching every item of a list, for
// bench/run-sharepoint.sh: token from @azure/msal-node (client credentials), site and list
// resolved by path and title, then PageIterator over items?$expand=fields&$top=N, keeping
// every item in memory (as extdata keeps its records).
//   node bench/sharepoint-sdk.mjs BASE_URL TENANT CLIENT_ID SECRET HOST SITE_PATH LIST PAGE_SIZE
// Trusts the simulator's CA through NODE_EXTRA_CA_CERTS.
import { createRequire } from "node:module";

const require = createRequire(new URL("../tests/node/package.json", import.meta.url));
require("isomorphic-fetch");
const msal = require("@azure/msal-node");
const { Client, PageIterator } = require("@microsoft/microsoft-graph-client");

const [base, tenant, clientId, clientSecret, siteHost, sitePath, listTitle, pageSize] =
  process.argv.slice(2);
if (!pageSize) {
  console.error("usage: node sharepoint-sdk.mjs BASE TENANT CLIENT_ID SECRET HOST PATH LIST PAGE_SIZE");
  process.exit(2);
}
const baseUrl = new URL(base);
const authority = `${base}/${tenant}`;
// graphsim serves no OpenID discovery document: give MSAL the metadata it would fetch.
const authorityMetadata = JSON.stringify({
  token_endpoint: `${authority}/oauth2/v2.0/token`,
  authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
  issuer: `${authority}/v2.0`,
  jwks_uri: `${authority}/discovery/v2.0/keys`,
  token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt"],
  response_types_supported: ["code", "id_token", "token"],
  end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
});

const started = process.hrtime.bigint();
const cca = new msal.ConfidentialClientApplication({
  auth: {
    clientId,
    clientSecret,
    authority,
    knownAuthorities: [baseUrl.host],
    authorityMetadata,
  },
});
const token = await cca.acquireTokenByClientCredential({
  scopes: ["https://graph.microsoft.com/.default"],
});
const client = Client.init({
  authProvider: (done) => done(null, token.accessToken),
  baseUrl: `${base}/`,
  defaultVersion: "v1.0",
  customHosts: new Set([baseUrl.hostname]),
});
const site = await client.api(`/sites/${siteHost}:${sitePath}`).select("id").get();
const list = await client
  .api(`/sites/${encodeURIComponent(site.id)}/lists/${encodeURIComponent(listTitle)}`)
  .select("id")
  .get();
const first = await client
  .api(`/sites/${encodeURIComponent(site.id)}/lists/${list.id}/items`)
  .expand("fields")
  .top(Number(pageSize))
  .get();
const items = [];
const iterator = new PageIterator(client, first, (item) => {
  items.push(item);
  return true;
});
await iterator.iterate();
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(`items=${items.length} ms=${ms.toFixed(1)}`);
