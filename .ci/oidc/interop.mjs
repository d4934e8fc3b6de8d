// Signs in to the real portal through node oidc-provider: authorization code
// + PKCE, state/nonce bound to the browser's cookie, RFC 9207 iss, groups
// from userinfo mapped to roles. Usage: node interop.mjs PORTAL_URL DATA_DIR OP_PORT
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { startOp, CLIENT_ID, CLIENT_SECRET } from './op.mjs';

const [portal, dataDir, opPort] = process.argv.slice(2);
const op = await startOp(Number(opPort), `${portal}/auth/sso/callback`, `${portal}/login`);
let passed = 0;
let failed = 0;

// One cookie jar per origin (the OP and the portal share 127.0.0.1).
class Browser {
  constructor() { this.jars = new Map(); this.logins = 0; }
  jar(url) {
    const o = new URL(url).origin;
    if (!this.jars.has(o)) this.jars.set(o, new Map());
    return this.jars.get(o);
  }
  async go(url, init = {}) {
    const jar = this.jar(url);
    const headers = { ...(init.headers || {}) };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const [k, v] = [pair.slice(0, i), pair.slice(i + 1)];
      if (v === '' || /max-age=0/i.test(c) || /expires=thu, 01 jan 1970/i.test(c)) jar.delete(k); else jar.set(k, v);
    }
    return res;
  }
  // Follows redirects, answering the OP's login and consent prompts.
  async signIn(start, login) {
    let url = start;
    for (let hop = 0; hop < 20; hop += 1) {
      const res = await this.go(url);
      if (res.status >= 300 && res.status < 400) {
        url = new URL(res.headers.get('location'), url).toString();
        if (url.startsWith(`${portal}/auth/sso/callback`)) {
          const pending = this.jar(portal).get('portal_sso');
          return { callback: url, pending, res: await this.go(url) };
        }
        continue;
      }
      const html = await res.text();
      const action = /action="([^"]+)"/.exec(html)?.[1];
      assert.ok(action, `no form at ${url} (${res.status}): ${html.slice(0, 300)}`);
      const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
      if (prompt === 'login') this.logins += 1;
      const body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt });
      const post = await this.go(new URL(action, url).toString(), {
        method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.ok(post.status >= 300 && post.status < 400, `prompt ${prompt}: ${post.status}`);
      url = new URL(post.headers.get('location'), url).toString();
    }
    throw new Error('too many redirects');
  }
}

async function check(name, f) {
  try { await f(); passed += 1; console.log(`ok - ${name}`); } catch (e) { failed += 1; console.log(`not ok - ${name}\n  ${e.stack}`); }
}

const json = { 'content-type': 'application/json', origin: portal };
const setupToken = readFileSync(`${dataDir}/setup-token`, 'utf8').trim();
let res = await fetch(`${portal}/api/setup/admin`, {
  method: 'POST', headers: { ...json, authorization: `Bearer ${setupToken}` },
  body: JSON.stringify({ email: 'root@example.com', password: 'a long passphrase', name: 'Root', orgName: 'Acme' }),
});
assert.equal(res.status, 201, await res.text());
const admin = new Browser();
res = await admin.go(`${portal}/api/auth/sign-in/email`, {
  method: 'POST', headers: json, body: JSON.stringify({ email: 'root@example.com', password: 'a long passphrase' }),
});
assert.equal(res.status, 200);
const orgId = (await res.json()).activeOrganization.id;

let idp;
await check('a platform admin adds node oidc-provider as an identity provider', async () => {
  const r = await admin.go(`${portal}/api/admin/idp`, {
    method: 'POST', headers: json,
    body: JSON.stringify({
      name: 'CI OP', issuer: op.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET,
      scopes: ['email', 'profile', 'groups'], groupsSource: 'userinfo',
      adminGroups: ['portal-admins'], operatorGroups: ['portal-operators'],
      defaultOrgId: orgId, jit: true, rolesManaged: true,
    }),
  });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  idp = JSON.parse(text);
  assert.equal(idp.hasClientSecret, true);
  assert.equal(JSON.stringify(idp).includes(CLIENT_SECRET), false);
});

await check('test connection passes discovery and keys', async () => {
  const r = await admin.go(`${portal}/api/admin/idp/${idp.id}/test`, { method: 'POST', headers: json, body: '{}' });
  const t = await r.json();
  assert.equal(t.ok, true, JSON.stringify(t));
  assert.ok(t.keys >= 1);
});

async function ssoAs(login) {
  const b = new Browser();
  const { res: cb, callback, pending } = await b.signIn(`${portal}/auth/sso/${idp.id}/start?next=/chat`, login);
  return { b, cb, callback, pending };
}

await check('an operator by group signs in with PKCE and lands as operator', async () => {
  const { b, cb, callback } = await ssoAs('op-grace');
  assert.equal(cb.status, 303, cb.status === 303 ? '' : await cb.text());
  assert.equal(cb.headers.get('location'), '/chat');
  assert.match(callback, /[?&]iss=/, 'the OP sent RFC 9207 iss');
  const s = await (await b.go(`${portal}/api/auth/get-session`)).json();
  assert.equal(s.user.email, 'op-grace@example.com');
  assert.equal(s.role, 'operator');
  assert.equal(s.activeOrganization.id, orgId);
});

await check('an admin by group lands as admin; no group is viewer', async () => {
  let { b, cb } = await ssoAs('admin-ada');
  assert.equal(cb.status, 303);
  assert.equal((await (await b.go(`${portal}/api/auth/get-session`)).json()).role, 'admin');
  ({ b, cb } = await ssoAs('someone'));
  assert.equal(cb.status, 303);
  assert.equal((await (await b.go(`${portal}/api/auth/get-session`)).json()).role, 'viewer');
});

await check('a replayed callback is refused', async () => {
  const { b, cb, callback, pending } = await ssoAs('op-replay');
  assert.equal(cb.status, 303);
  assert.ok(pending, 'the start set the pending cookie');
  assert.equal(b.jar(portal).has('portal_sso'), false, 'the callback cleared it');
  // Replayed with the very cookie and callback URL: the state is spent.
  const r = await fetch(callback, { redirect: 'manual', headers: { cookie: `portal_sso=${pending}` } });
  assert.equal(r.status, 403);
  assert.equal(r.headers.getSetCookie().some((c) => c.startsWith('portal_session=')), false);
});

const unescape = (s) => s.replaceAll('&amp;', '&').replaceAll('&quot;', '"');

await check('signing out of an SSO session signs out at the OP too (RP-initiated logout)', async () => {
  const { b, cb } = await ssoAs('op-logout');
  assert.equal(cb.status, 303);
  assert.equal(b.logins, 1);
  const confirm = await (await b.go(`${portal}/logout`)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(confirm)?.[1];
  assert.ok(csrf, confirm.slice(0, 300));
  const out = await b.go(`${portal}/logout`, {
    method: 'POST', body: new URLSearchParams({ csrf }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: portal },
  });
  const page = await out.text();
  assert.equal(out.status, 200, page.slice(0, 300));
  assert.equal(b.jar(portal).has('portal_session'), false, 'the portal session cookie is cleared');
  const to = unescape(/id="sso-logout"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*id="sso-logout"/.exec(page)?.slice(1).find(Boolean) || '');
  assert.ok(to.startsWith(`${op.issuer}/`), `to the OP's end_session_endpoint: ${to}`);
  const q = new URL(to).searchParams;
  assert.ok(q.get('id_token_hint'), 'id_token_hint');
  assert.equal(q.get('post_logout_redirect_uri'), `${portal}/login`);
  // The OP asks to confirm; yes.
  const ask = await b.go(to);
  const html = await ask.text();
  assert.equal(ask.status, 200, html.slice(0, 300));
  const action = /action="([^"]+)"/.exec(html)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(action && xsrf, html.slice(0, 500));
  const done = await b.go(new URL(action, to).toString(), {
    method: 'POST', body: new URLSearchParams({ xsrf, logout: 'yes' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.ok(done.status >= 300 && done.status < 400, `confirm: ${done.status}`);
  assert.ok(done.headers.get('location').startsWith(`${portal}/login`), done.headers.get('location'));
  const s = await (await b.go(`${portal}/api/auth/get-session`)).json().catch(() => null);
  assert.ok(!s || !s.user, 'signed out of the portal');
  // The OP's own session ended: signing in again asks for the login.
  const again = await b.signIn(`${portal}/auth/sso/${idp.id}/start?next=/chat`, 'op-logout');
  assert.equal(again.res.status, 303);
  assert.equal(b.logins, 2, 'the OP asked for the login again');
});

await check('a password session signs out locally only', async () => {
  const confirm = await (await admin.go(`${portal}/logout`)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(confirm)?.[1];
  const out = await admin.go(`${portal}/logout`, {
    method: 'POST', body: new URLSearchParams({ csrf }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: portal },
  });
  assert.equal(out.status, 303);
  assert.equal(out.headers.get('location'), '/login');
  const r = await admin.go(`${portal}/api/auth/sign-in/email`, {
    method: 'POST', headers: json, body: JSON.stringify({ email: 'root@example.com', password: 'a long passphrase' }),
  });
  assert.equal(r.status, 200);
});

await check('password sign-in turned off for the org: members use SSO, the platform admin keeps a break-glass password', async () => {
  let r = await admin.go(`${portal}/api/org/settings`, { method: 'PUT', headers: json, body: JSON.stringify({ passwordSignIn: false }) });
  const t = await r.text();
  assert.equal(r.status, 200, t);
  assert.equal(JSON.parse(t).passwordSignIn, false);
  // A member with a password (added by the admin) is refused with 403.
  r = await admin.go(`${portal}/api/org/members`, { method: 'POST', headers: json, body: JSON.stringify({ email: 'pw@example.com', name: 'Pw', role: 'viewer' }) });
  assert.equal(r.status, 201);
  const otp = (await r.json()).oneTimePassword;
  r = await fetch(`${portal}/api/auth/sign-in/email`, { method: 'POST', headers: json, body: JSON.stringify({ email: 'pw@example.com', password: otp }) });
  assert.equal(r.status, 403);
  assert.match((await r.json()).error, /single sign-on/);
  r = await fetch(`${portal}/api/auth/sign-in/email`, { method: 'POST', headers: json, body: JSON.stringify({ email: 'root@example.com', password: 'a long passphrase' }) });
  assert.equal(r.status, 200, 'break-glass');
  r = await admin.go(`${portal}/api/org/settings`, { method: 'PUT', headers: json, body: JSON.stringify({ passwordSignIn: true }) });
  assert.equal(r.status, 200);
});

await check('the sign-in audit names the mapped role and the group', async () => {
  const r = await admin.go(`${portal}/api/audit?action=auth.sso_sign_in`, { headers: { origin: portal } });
  const body = await r.json();
  const records = body.records || body.items || body.entries || [];
  const hit = records.find((x) => JSON.stringify(x).includes('portal-operators'));
  assert.ok(hit, JSON.stringify(body).slice(0, 500));
  assert.ok(JSON.stringify(hit).includes('operator'));
});

op.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
