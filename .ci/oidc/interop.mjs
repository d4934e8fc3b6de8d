// Signs in to the real portal through node oidc-provider: authorization code
// + PKCE, state/nonce bound to the browser's cookie, RFC 9207 iss, groups
// from userinfo mapped to roles. Usage: node interop.mjs PORTAL_URL DATA_DIR OP_PORT
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { startOp, CLIENT_ID, CLIENT_SECRET } from './op.mjs';

const [portal, dataDir, opPort] = process.argv.slice(2);
const op = await startOp(Number(opPort), `${portal}/auth/sso/callback`);
let passed = 0;
let failed = 0;

// One cookie jar per origin (the OP and the portal share 127.0.0.1).
class Browser {
  constructor() { this.jars = new Map(); }
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
