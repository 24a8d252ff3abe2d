// A certified OpenID Connect server (oidc-provider) for extdata's user-grant tests:
// authorization code + PKCE (required), refresh-token rotation (a reused refresh token revokes
// the whole grant), the device flow (RFC 8628) and revocation (RFC 7009), with oidc-provider's
// own login and consent pages (devInteractions: any login name signs in). Plus, for the tests:
//   GET /resource/customers   a resource that accepts only live access tokens of this server
//   GET /test/log             what clients sent to /token, /token/revocation and /device/auth
// oidc-provider has no slow_down of its own; like a provider that judges a client too eager,
// this server answers the second poll of every device code with slow_down, and announces an
// interval of 1 second so the test does not wait 5.
//
//   node oidc-user-server.mjs --redirect-uri https://extdata.example/oauth2/callback
//
// Listens on 127.0.0.1 (a free port), prints one JSON line on stdout ({"issuer", ...}) and
// serves until stdin closes or it gets SIGTERM.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

function argument(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    console.error(`usage: node oidc-user-server.mjs --redirect-uri URL (missing ${name})`);
    process.exit(2);
  }
  return process.argv[i + 1];
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const WEB_SECRET = 'web~secret+value/1';
const log = [];
const polls = new Map();

const server = createServer();
// Test clients keep connections across slow steps: never close an idle one under them.
server.keepAliveTimeout = 120000;
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'web-client',
      client_secret: WEB_SECRET,
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [argument('--redirect-uri')],
      scope: 'openid offline_access profile email api.read',
    },
    {
      client_id: 'device-client',
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      scope: 'openid offline_access profile email api.read',
    },
  ],
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api.read'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
  conformIdTokenClaims: false,
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, name: 'Ada Lovelace', email: `${id}@example.test` }),
  }),
  pkce: { required: () => true },
  rotateRefreshToken: true,
  ttl: { AccessToken: 600, AuthorizationCode: 60, DeviceCode: 600, RefreshToken: 86400, Grant: 86400, Interaction: 600, Session: 600 },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
  },
});
provider.on('server_error', (ctx, err) => console.error('oidc server_error', err));

async function rawBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/test/log') {
    ctx.body = log;
    return;
  }
  if (ctx.path === '/resource/customers') {
    const header = ctx.get('authorization');
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const live = token ? await provider.AccessToken.find(token) : undefined;
    log.push({ path: ctx.path, answer: live ? 'ok' : 'invalid_token' });
    if (!live) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      ctx.body = { error: 'invalid_token' };
      return;
    }
    ctx.body = { customers: [{ id: 'c1', name: 'Contoso' }, { id: 'c2', name: 'Fabrikam' }], for: live.accountId };
    return;
  }
  let entry;
  if (ctx.method === 'POST' && ['/token', '/token/revocation', '/device/auth'].includes(ctx.path)) {
    const raw = await rawBody(ctx.req);
    ctx.req.body = raw; // oidc-provider reads an already read body from here
    const form = Object.fromEntries(new URLSearchParams(raw));
    entry = {
      path: ctx.path,
      params: Object.keys(form).sort(),
      grant_type: form.grant_type,
      refresh_token: form.refresh_token,
      token: form.token,
      token_type_hint: form.token_type_hint,
      code_verifier_length: form.code_verifier ? form.code_verifier.length : 0,
    };
    log.push(entry);
    if (form.grant_type === DEVICE_GRANT) {
      const n = (polls.get(form.device_code) || 0) + 1;
      polls.set(form.device_code, n);
      if (n === 2) {
        entry.answer = 'slow_down';
        ctx.status = 400;
        ctx.body = { error: 'slow_down', error_description: 'you are polling too quickly' };
        return;
      }
    }
  }
  await next();
  if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
    ctx.body = { ...ctx.body, interval: 1 };
  }
  if (entry) entry.answer = ctx.status === 200 ? 'ok' : (ctx.body && ctx.body.error) || String(ctx.status);
});

server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({
  issuer,
  authorize_url: `${issuer}/auth`,
  token_url: `${issuer}/token`,
  device_authorization_url: `${issuer}/device/auth`,
  revocation_url: `${issuer}/token/revocation`,
  resource_url: `${issuer}/resource/customers`,
  web_client: { client_id: 'web-client', client_secret: WEB_SECRET },
  device_client: { client_id: 'device-client' },
})}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
