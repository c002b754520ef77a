// A real OpenID Connect provider (node-oidc-provider) on loopback, for the sign-in tests only.
//
// Started by tests/oidc/fixtures.py: it listens on a free loopback port, prints
// "listening <issuer>" and serves until killed. Test accounts come from OIDC_TEST_ACCOUNTS
// (JSON: {login: {sub, password, email, email_verified, name}}). Clients are confidential
// (client_secret_basic), authorization code only, PKCE required; the test harness registers
// one per app under test, with that app's exact redirect URI, through a loopback control
// endpoint guarded by OIDC_TEST_CONTROL_TOKEN (ports are only known once each app runs).
// Login is a minimal form served by this same server (dev interactions are off); a wrong
// password ends the authorization with access_denied, back at the app.

import http from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

const accounts = JSON.parse(process.env.OIDC_TEST_ACCOUNTS || '{}');
const controlToken = process.env.OIDC_TEST_CONTROL_TOKEN || '';
const clients = new Map();

// Clients live in this map; every other model in the package's own memory adapter.
class ClientStore {
  async find(id) {
    return clients.get(id);
  }
  async upsert() {}
  async destroy() {}
}

class Adapter {
  constructor(name) {
    return name === 'Client' ? new ClientStore() : new MemoryAdapter(name);
  }
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      data += chunk;
      if (data.length > 100_000) reject(new Error('body too large'));
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function loginPage(uid, clientId) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body><h1>Test provider</h1><p>Sign in to continue to ${escapeHtml(clientId)}.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Provider login</label> <input id="login" name="login" autocomplete="off">
<label for="password">Provider password</label> <input id="password" name="password" type="password">
<button type="submit">Continue</button></form></body></html>`;
}

function sameSecret(given) {
  const a = Buffer.from(given);
  const b = Buffer.from(controlToken);
  return controlToken !== '' && a.length === b.length && timingSafeEqual(a, b);
}

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  adapter: Adapter,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // No consent screen: the test client gets openid, email and profile at once.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const entry = Object.entries(accounts).find(([, account]) => account.sub === id);
    if (!entry) return undefined;
    const [login, account] = entry;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: account.email,
          email_verified: account.email_verified,
          name: account.name,
          preferred_username: login,
        };
      },
    };
  },
});

const handleOidc = provider.callback();

server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (req.method === 'POST' && url.pathname === '/__test__/clients') {
      if (!sameSecret(req.headers['x-control-token'] || '')) {
        send(res, 403, 'text/plain', 'forbidden');
        return;
      }
      const body = JSON.parse(await readBody(req));
      clients.set(body.client_id, {
        client_id: body.client_id,
        client_secret: body.client_secret,
        redirect_uris: body.redirect_uris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      send(res, 201, 'application/json', '{"ok":true}');
      return;
    }
    const match = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (match) {
      const details = await provider.interactionDetails(req, res);
      if (details.uid !== match[1]) {
        send(res, 400, 'text/plain', 'unknown interaction');
        return;
      }
      if (req.method === 'GET' && !match[2]) {
        send(res, 200, 'text/html; charset=utf-8', loginPage(details.uid, details.params.client_id));
        return;
      }
      if (req.method === 'POST' && match[2]) {
        const form = new URLSearchParams(await readBody(req));
        const account = accounts[form.get('login') || ''];
        const result = account && account.password === form.get('password')
          ? { login: { accountId: account.sub } }
          : { error: 'access_denied', error_description: 'The login or password was wrong.' };
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
        return;
      }
    }
    handleOidc(req, res);
  } catch (error) {
    send(res, 500, 'text/plain', `test provider error: ${error.message}`);
  }
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`listening ${issuer}`);
