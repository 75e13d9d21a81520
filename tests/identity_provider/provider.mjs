// A real OpenID Connect provider for the tests: the npm package oidc-provider, on loopback.
//
//   node tests/identity_provider/provider.mjs CONFIG.json
//
// CONFIG: {"port", "issuer", "clients": [...], "jwks": {"keys": [private RSA JWK]},
// "state_file"}. The state file, read again at each use, holds {"accounts": [...],
// "mischief": null | "expired" | "audience" | "tampered" | "issuer" | "nonce"}: the tests
// change people and misbehaviour by rewriting it, without restarting the provider. Its
// Python side is tests/identity_provider/__init__.py. Prints "ready" once listening.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { importJWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const privateKey = config.jwks.keys[0];

function state() {
  return JSON.parse(readFileSync(config.state_file, 'utf8'));
}

async function findAccount(_ctx, sub) {
  const account = state().accounts.find((each) => each.sub === sub);
  if (!account) return undefined;
  // An account's `userinfo` claims are sent by the userinfo endpoint only, not in the ID token.
  const { userinfo, ...claims } = account;
  return {
    accountId: sub,
    claims: async (use) => (use === 'userinfo' ? { ...claims, ...userinfo } : { ...claims }),
  };
}

// Consent is implicit: a grant for what the client asks is made on the person's behalf, as a
// company's provider does for its own applications.
async function loadExistingGrant(ctx) {
  const grantId = ctx.oidc.result?.consent?.grantId
    || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
  if (grantId) {
    const found = await ctx.oidc.provider.Grant.find(grantId);
    if (found) return found;
  }
  const grant = new ctx.oidc.provider.Grant({
    clientId: ctx.oidc.client.clientId,
    accountId: ctx.oidc.session.accountId,
  });
  grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
  await grant.save();
  return grant;
}

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>`
    + `</head><body><h1>${title}</h1>${body}</body></html>`;
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  findAccount,
  loadExistingGrant,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'department', 'groups', 'locale'],
  },
  // The ID token carries the claims of the scopes granted (not only through userinfo).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  // The provider's own calls out (back-channel logout) refuse loopback addresses, against
  // request forgery; here the app is on loopback, so they go without that check.
  fetch: (url, { dispatcher, ...options }) => globalThis.fetch(url, options),
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: {
    devInteractions: { enabled: true },
    // Signing out here POSTs a logout token to each client's backchannel_logout_uri.
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out of the test identity provider?', `${form}`
          + '<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">'
          + 'Yes, sign me out</button>'
          + '<button type="submit" form="op.logoutForm">No, stay signed in</button>');
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p>You are signed out of the test identity provider.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Identity provider error', `<pre>${JSON.stringify(out)
      .replace(/&/g, '&amp;').replace(/</g, '&lt;')}</pre>`);
  },
});

// The built-in sign-in form imports a web font: the tests run offline.
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === 'string' && ctx.body.includes('fonts.googleapis.com')) {
    ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);/g, '');
  }
});

// Mischief: the token endpoint's ID token replaced by a bad one, for the refusal tests.
const signingKey = await importJWK(privateKey, 'RS256');

function b64(object) {
  return Buffer.from(JSON.stringify(object)).toString('base64url');
}

async function spoiled(idToken, mischief) {
  const [header, payload, signature] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const now = Math.floor(Date.now() / 1000);
  switch (mischief) {
    case 'tampered':
      return `${header}.${b64({ ...claims, email: 'someone.else@example.com' })}.${signature}`;
    case 'expired':
      Object.assign(claims, { iat: now - 3 * 3600, exp: now - 2 * 3600 });
      break;
    case 'audience':
      claims.aud = 'another-application';
      break;
    case 'issuer':
      claims.iss = 'http://127.0.0.1:9/another-provider';
      break;
    case 'nonce':
      claims.nonce = 'not-the-nonce-the-application-sent';
      break;
    default:
      throw new Error(`unknown mischief ${mischief}`);
  }
  const protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString());
  return new SignJWT(claims).setProtectedHeader(protectedHeader).sign(signingKey);
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || ctx.method !== 'POST') return;
  const { mischief } = state();
  if (mischief && ctx.status === 200 && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await spoiled(ctx.body.id_token, mischief) };
  }
});

// Back-channel logout calls, in the provider's log (IdentityProvider.log_file).
provider.on('backchannel.success', (_ctx, client, accountId) => {
  process.stdout.write(`back-channel logout of ${accountId} at ${client.clientId}: done\n`);
});
provider.on('backchannel.error', (_ctx, error, client, accountId) => {
  process.stdout.write(`back-channel logout of ${accountId} at ${client.clientId}: ${error}\n`);
});

// Started by a test process, which holds this end of stdin: when it goes, however it ends,
// the provider goes too.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
