// A certified OAuth 2.0 / OpenID Connect server (oidc-provider) configured for the
// client-credentials grant, for extdata's integration tests.
//
//   node oidc-server.mjs --client-cert CERT.pem
//
// Listens on 127.0.0.1 (a free port), prints one JSON line on stdout:
//   {"issuer": "...", "token_endpoint": "...", "clients": {...}}
// and serves until stdin closes or it gets SIGTERM. Clients:
//   post-client   client_secret_post
//   basic-client  client_secret_basic
//   jwt-client    private_key_jwt, verified with the public key of CERT.pem (RS256/PS256)
// Access tokens are JWTs for the resource https://api.extdata.test (resource indicators).
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

function argument(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    console.error(`usage: node oidc-server.mjs --client-cert CERT.pem (missing ${name})`);
    process.exit(2);
  }
  return process.argv[i + 1];
}

const RESOURCE = 'https://api.extdata.test';
// Secrets with characters that need form and Basic encoding.
const SECRETS = {
  'post-client': 'post~secret.value_1+/=&%',
  'basic-client': 'basic secret:with+special/chars=&',
};

const clientJwk = {
  ...createPublicKey(readFileSync(argument('--client-cert'))).export({ format: 'jwk' }),
  use: 'sig',
};
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'oidc-test-1', use: 'sig', alg: 'RS256' };

const common = {
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: 'api.read api.write',
};

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    { ...common, client_id: 'post-client', client_secret: SECRETS['post-client'], token_endpoint_auth_method: 'client_secret_post' },
    { ...common, client_id: 'basic-client', client_secret: SECRETS['basic-client'], token_endpoint_auth_method: 'client_secret_basic' },
    { ...common, client_id: 'jwt-client', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [clientJwk] } },
  ],
  clientAuthMethods: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: ['RS256', 'PS256'] },
  jwks: { keys: [signingJwk] },
  scopes: ['api.read', 'api.write'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: 'api.read api.write',
          audience: RESOURCE,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  extraTokenClaims: (ctx, token) => (token.kind === 'ClientCredentials' ? { roles: ['Reports.Read'] } : undefined),
});
provider.on('server_error', (ctx, err) => console.error('oidc server_error', err));

server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({
  issuer,
  token_endpoint: `${issuer}/token`,
  resource: RESOURCE,
  clients: {
    'post-client': { client_secret: SECRETS['post-client'] },
    'basic-client': { client_secret: SECRETS['basic-client'] },
    'jwt-client': {},
  },
})}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The test holds our stdin; when it goes away (even by a crash), so do we.
process.stdin.on('end', stop);
process.stdin.resume();
