// A real OpenID provider for authx's single sign-on tests: panva
// oidc-provider, configured by the Go test (package idptest) through a JSON
// file named by the first argument. It listens on 127.0.0.1 only, on the
// port the file names (0: a free one), prints one JSON line
// {"ready":true,"port":N} on stdout when it accepts connections, then one
// JSON line per provider event ({"event":"grant.success","grant_type":...}),
// which the test counts. It exits when its stdin closes (the test ended).
//
// Beside oidc-provider's own features it checks the test user's password on
// the dev login page (devInteractions accept any password) and registers a
// minimal RFC 8693 token exchange grant.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

// The port is known once listening; the issuer names it.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(cfg.port || 0, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;
const ttl = cfg.access_token_ttl || 300;

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

// The provider's signing key, kept here too so that token exchange can
// verify the JWT access tokens it issued.
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJWK = { ...privateKey.export({ format: 'jwk' }), kid: 'idptest-rs256', alg: 'RS256', use: 'sig' };

const resourceServers = Object.fromEntries(cfg.resources.map((r) => [r, {
  scope: 'api:read api:write',
  audience: r,
  accessTokenTTL: ttl,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: 'RS256' } },
}]));

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const configuration = {
  clients: cfg.clients,
  jwks: { keys: [signingJWK] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api:read', 'api:write'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  async findAccount(ctx, sub) {
    if (sub !== cfg.user) return undefined;
    return {
      accountId: sub,
      async claims() { return { sub, name: 'Alice Liddell', email: `${sub}@idp.test`, email_verified: true }; },
    };
  },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    // DPoP (RFC 9449): on by default (oidc-provider's default); with
    // dpop_nonce every proof, at the token endpoint and at userinfo, must
    // carry the server's nonce (400 or 401 use_dpop_nonce with a
    // DPoP-Nonce header otherwise).
    dPoP: cfg.dpop === false ? { enabled: false } : {
      enabled: true,
      ...(cfg.dpop_nonce ? { nonceSecret: crypto.randomBytes(32), requireNonce: () => true } : {}),
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, indicator) => {
        const info = resourceServers[indicator];
        if (!info) throw new errors.InvalidTarget();
        return info;
      },
    },
  },
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: ttl,
    ClientCredentials: ttl,
    IdToken: 3600,
    RefreshToken: 86400,
    DeviceCode: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 86400,
  },
};

const provider = new Provider(issuer, configuration);

// The dev login page takes any password; a real IdP does not.
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path.startsWith('/interaction/') && ctx.is('application/x-www-form-urlencoded')) {
    const chunks = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += chunk.length;
      if (size > 16384) ctx.throw(413);
      chunks.push(chunk);
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    if (form.get('prompt') === 'login' && (form.get('login') !== cfg.user || form.get('password') !== cfg.password)) {
      emit({ event: 'login.failed', login: form.get('login') });
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = '<!DOCTYPE html><title>Sign-in failed</title><p id="error">Wrong login or password.</p>';
      return;
    }
    ctx.request.body = Object.fromEntries(form);
  }
  await next();
});

// verifyOwnJWT returns the payload of a JWT access token this provider
// signed and that has not expired, or undefined.
function verifyOwnJWT(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url'));
    if (header.alg !== 'RS256' || header.kid !== signingJWK.kid) return undefined;
    const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'));
    if (!ok) return undefined;
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url'));
    if (payload.iss !== issuer || !(payload.exp > Date.now() / 1000)) return undefined;
    return payload;
  } catch {
    return undefined;
  }
}

// Token exchange (RFC 8693), minimal: the subject token must be a live
// access token from this provider (opaque or JWT); the answer is a new
// access token for the same subject, bound to the requested resource.
provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
  const { params, client } = ctx.oidc;
  if (!params.subject_token) throw new errors.InvalidRequest('missing subject_token');
  if (params.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('unsupported subject_token_type');
  if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest('unsupported requested_token_type');
  }
  let sub;
  const jwt = verifyOwnJWT(params.subject_token);
  if (jwt) {
    sub = jwt.sub;
  } else {
    const opaque = await provider.AccessToken.find(params.subject_token)
      || await provider.ClientCredentials.find(params.subject_token);
    if (!opaque || opaque.isExpired) throw new errors.InvalidGrant('subject_token is not a valid access token');
    sub = opaque.accountId || opaque.clientId;
  }
  if (!sub) throw new errors.InvalidGrant('subject_token has no subject');
  const resource = params.resource;
  if (Array.isArray(resource)) throw new errors.InvalidTarget('only one resource');
  if (!resource || !resourceServers[resource]) throw new errors.InvalidTarget('token exchange needs a known resource');

  const at = new provider.AccessToken({
    accountId: sub,
    client,
    gty: TOKEN_EXCHANGE,
    grantId: crypto.randomUUID(),
    scope: 'api:read',
  });
  at.resourceServer = new provider.ResourceServer(resource, resourceServers[resource]);
  if (params.actor_token) at.extra = { act: { sub: client.clientId } };
  ctx.oidc.entity('AccessToken', at);
  const value = await at.save();
  ctx.body = {
    access_token: value,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: at.expiration,
    scope: at.scope,
  };
}, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope'], ['resource']);

// Events, one JSON line each, for the test to count. A listener gets a
// context (grant.*, authorization.*, revocation.error), a token (TOKEN.saved,
// .consumed, .destroyed) or an error, in that order.
for (const name of ['grant.success', 'grant.error', 'grant.revoked', 'authorization.success', 'authorization.error',
  'revocation.error', 'introspection.error', 'userinfo.error', 'server_error', 'interaction.ended',
  'refresh_token.saved', 'refresh_token.consumed', 'refresh_token.destroyed',
  'access_token.destroyed', 'client_credentials.destroyed', 'device_code.saved', 'device_code.consumed']) {
  provider.on(name, (...args) => {
    const line = { event: name };
    for (const a of args) {
      if (a && a.oidc) {
        line.grant_type = a.oidc.params?.grant_type;
        line.client_id = a.oidc.client?.clientId;
      } else if (a && a.kind && a.jti) {
        line.token_kind = a.kind;
        line.client_id = a.clientId;
      } else if (a instanceof Error) {
        line.error = a.error || a.message;
      }
    }
    emit(line);
  });
}

// Every answer of userinfo, and every DPoP nonce challenge (the token
// endpoint's 400, userinfo's 401): oidc-provider emits no event for either.
provider.use(async (ctx, next) => {
  try {
    await next();
  } finally {
    const challenged = ctx.status >= 400 && /use_dpop_nonce/.test(String(ctx.response.get('www-authenticate')) + JSON.stringify(ctx.body ?? ''));
    if (challenged) emit({ event: 'dpop.nonce_challenge', grant_type: ctx.path });
    if (ctx.method !== 'OPTIONS' && ctx.path === '/me') {
      emit({ event: 'userinfo', grant_type: ctx.get('authorization').split(' ')[0], error: ctx.status === 200 ? undefined : String(ctx.status) });
    }
  }
});

// oidc-provider emits no event for a successful revocation (RFC 7009: 200
// whether or not the token was known); the destroyed events name the token.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.method === 'POST' && ctx.path === '/token/revocation' && ctx.status === 200) {
    emit({ event: 'revocation.success', client_id: ctx.oidc?.client?.clientId });
  }
});

server.on('request', provider.callback());
emit({ ready: true, port, issuer });
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
