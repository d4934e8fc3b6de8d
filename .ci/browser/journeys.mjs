// Browser journeys through the portal's web UI in Debian's headless Chromium:
// (1) first run: setup token → admin → home; (2) an operator asks for a tool
// that needs approval over the REST API, an admin approves it at /approvals and
// sees it decided; (3) a viewer sees no approve controls and a forged POST gets
// 403; (4) axe-core finds no serious or critical violation on any page, in the
// light and the dark theme; (5) chat (chat.mjs, against the scripted model the
// run script starts); (7) single sign-on through a real OpenID Provider
// (sso.mjs); (8) AI providers as data (ai.mjs). Any CSP violation fails the run. Screenshots of
// each journey's end state go to the shots directory.
//
// usage: node journeys.mjs BASE_URL DATA_DIR SHOTS_DIR OP_PORT
import { readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { chromium, request } from 'playwright-core';
import { chatJourneys } from './chat.mjs';
import { adminJourneys } from './admin.mjs';
import { portalJourneys } from './portal.mjs';
import { ssoJourneys } from './sso.mjs';
import { aiJourneys } from './ai.mjs';

const [base, dataDir, shots, opPort] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'a long passphrase for the browser';
mkdirSync(shots, { recursive: true });

let passed = 0;
let failed = 0;
const problems = [];

function check(cond, what) {
  if (cond) {
    passed += 1;
    console.log(`ok ${what}`);
  } else {
    failed += 1;
    console.log(`not ok ${what}`);
    problems.push(what);
  }
}

// Chromium is started here with exactly these flags and a fresh profile, then
// driven over the DevTools protocol (Playwright refuses --user-data-dir in launch()).
const profile = mkdtempSync(join(tmpdir(), 'portal-chromium-'));
const chrome = spawn(process.env.CHROMIUM || '/usr/bin/chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
const endpoint = await new Promise((resolve, reject) => {
  let seen = '';
  const timer = setTimeout(() => reject(new Error(`Chromium did not start: ${seen}`)), 30000);
  chrome.stderr.on('data', (d) => {
    seen += d;
    const m = seen.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  });
  chrome.on('exit', (code) => reject(new Error(`Chromium exited (${code}): ${seen}`)));
});
const browser = await chromium.connectOverCDP(endpoint);

/** A fresh browser context whose pages report CSP violations and script errors. */
async function context(name, viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ baseURL: base, viewport });
  ctx.on('page', (page) => watch(name, page));
  return ctx;
}

function watch(name, page) {
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) {
      check(false, `${name}: no CSP violation (${m.text()})`);
    }
  });
  page.on('pageerror', (e) => check(false, `${name}: no script error (${e.message})`));
}

/** axe-core on the current page, in both themes: no serious or critical violation. */
async function axe(page, label) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    // Evaluated through the DevTools protocol: the page's CSP stays in force.
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      axe.run(document, { resultTypes: ['violations'] }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    const detail = bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ');
    check(bad.length === 0, `axe ${label} (${scheme}): 0 serious/critical violations${detail ? ` — ${detail}` : ''}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** At phone width nothing may scroll sideways. */
async function fits(page, label) {
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
  }));
  check(scroll <= inner, `${label} fits ${inner} px without sideways scrolling (${scroll} px)`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** An API client with its own cookie jar, from the portal's origin. */
async function api() {
  return request.newContext({ baseURL: base, extraHTTPHeaders: { Origin: base } });
}

async function member(adminApi, email, role) {
  const res = await adminApi.post('/api/org/members', { data: { email, name: email.split('@')[0], role } });
  check(res.status() === 201, `admin adds ${role} ${email} (${res.status()})`);
  const otp = (await res.json()).oneTimePassword;
  const c = await api();
  const signIn = await c.post('/api/auth/sign-in/email', { data: { email, password: otp } });
  check(signIn.ok(), `${email} signs in with the one-time password`);
  const change = await c.post('/api/auth/change-password', { data: { currentPassword: otp, newPassword: PASSWORD } });
  check(change.ok(), `${email} sets a password`);
  return c;
}

// (1) First run.
const adminCtx = await context('admin');
const admin = await adminCtx.newPage();
await admin.goto('/');
check(new URL(admin.url()).pathname === '/setup', 'first visit lands on /setup');
await axe(admin, '/setup');
const token = readFileSync(join(dataDir, 'setup-token'), 'utf8').trim();
await admin.getByLabel('Setup token').fill(token);
await admin.getByLabel('Your name').fill('Ada Admin');
await admin.getByLabel('Email').fill('ada@example.com');
await admin.getByLabel('Password').fill(PASSWORD);
await admin.getByLabel('Organisation').fill('Acme');
await admin.getByRole('button', { name: 'Create admin and sign in' }).click();
await admin.waitForURL((u) => u.pathname === '/');
check(await admin.getByRole('heading', { name: 'Hello, Ada Admin' }).isVisible(), 'setup signs the admin in at home');
await axe(admin, '/ (home)');
await shot(admin, '1-first-run-home');

// The admin's API session (same account) to add members.
const adminApi = await api();
const adminSignIn = await adminApi.post('/api/auth/sign-in/email', { data: { email: 'ada@example.com', password: PASSWORD } });
check(adminSignIn.ok(), 'admin signs in over the API too');

// (2) Operator asks, admin approves in the browser.
const op = await member(adminApi, 'op@example.com', 'operator');
const list = await op.post('/api/v1/tools/listInstances/execute', { data: { args: { lifecycleState: 'RUNNING' } } });
const running = ((await list.json()).result?.items ?? []).find((i) => i.lifecycleState === 'RUNNING');
check(Boolean(running), 'the demo tenancy has a running instance');
const ask = () => op.post('/api/tools/execute', { data: { toolName: 'stopInstance', args: { instanceId: running.id } } });
const asked = await ask();
const askedBody = await asked.json();
check(asked.status() === 403 && askedBody.code === 'APPROVAL_REQUIRED', 'stopInstance needs an approval');
const approvalId = askedBody.approvalId;
check(askedBody.approveUrl.endsWith(`/approvals/${approvalId}`), 'approveUrl names the approval page');

await admin.goto('/approvals');
await axe(admin, '/approvals');
await admin.getByRole('link', { name: 'Review stopInstance' }).first().click();
await admin.waitForURL((u) => u.pathname === `/approvals/${approvalId}`);
await axe(admin, '/approvals/{id} (pending)');
await admin.getByLabel('Reason').fill('planned maintenance window');
await admin.getByRole('button', { name: 'Approve' }).click();
await admin.waitForURL((u) => u.pathname === `/approvals/${approvalId}`);
check((await admin.locator('#approval-status').innerText()).trim() === 'approved', 'the page shows the approval decided');
check(await admin.getByRole('button', { name: 'Approve' }).count() === 0, 'no controls once decided');
await axe(admin, '/approvals/{id} (decided)');
await shot(admin, '2-admin-approved');
const ran = await op.post('/api/tools/execute', { data: { toolName: 'stopInstance', args: { instanceId: running.id }, approvalId } });
check(ran.status() === 200, `the operator's call runs once approved (${ran.status()})`);

// (3) A viewer: no approve controls; a forged POST is refused.
const pending = await ask();
const pendingId = (await pending.json()).approvalId;
await member(adminApi, 'viewer@example.com', 'viewer');
const viewerCtx = await context('viewer', { width: 375, height: 740 });
const viewer = await viewerCtx.newPage();
await viewer.goto(`/approvals/${pendingId}`);
check(new URL(viewer.url()).pathname === '/login', 'a visitor is sent to sign in');
await axe(viewer, '/login');
await viewer.getByLabel('Email').fill('viewer@example.com');
await viewer.getByLabel('Password').fill(PASSWORD);
await viewer.getByRole('button', { name: 'Sign in' }).click();
await viewer.waitForURL((u) => u.pathname === `/approvals/${pendingId}`);
check(await viewer.getByRole('heading', { name: "You can't do that here" }).isVisible(), 'the viewer is refused the approval page (403)');
await axe(viewer, '403 page');
await viewer.goto('/approvals');
check(await viewer.locator('#no-approve').isVisible(), 'the viewer is told why there is nothing to approve');
check(await viewer.getByRole('button', { name: 'Approve' }).count() === 0, 'the viewer sees no approve controls');
await fits(viewer, 'viewer /approvals');
await shot(viewer, '3-viewer-approvals-375px');
const csrf = await viewer.locator('input[name="csrf"]').first().inputValue();
const forged = await viewer.request.post(`/approvals/${pendingId}`, {
  form: { csrf, decision: 'approve' }, headers: { Origin: base }, maxRedirects: 0,
});
check(forged.status() === 403, `a forged approve POST by the viewer gets 403 (${forged.status()})`);
const still = await (await adminApi.get(`/api/tools/approve/${pendingId}`)).json();
check(still.status === 'pending', 'the approval is still pending');

// (4) The remaining pages.
await viewer.goto('/activity');
check(await viewer.getByRole('heading', { name: 'Activity' }).isVisible(), 'the viewer reads the activity feed');
await fits(viewer, '/activity');
await axe(viewer, '/activity');
await shot(viewer, '4-activity-375px');
await viewer.goto('/logout');
await axe(viewer, '/logout');
await viewer.goto('/no/such/page');
check(await viewer.getByRole('heading', { name: 'Page not found' }).isVisible(), 'a styled 404 page');
await axe(viewer, '404 page');
await shot(viewer, '4-not-found-375px');
await admin.setViewportSize({ width: 375, height: 740 });
await admin.goto('/');
await fits(admin, 'home');
await shot(admin, '4-home-375px');
await admin.emulateMedia({ colorScheme: 'dark' });
await admin.goto('/approvals');
await fits(admin, '/approvals');
await shot(admin, '4-approvals-dark');
await admin.goto(`/approvals/${pendingId}`);
await fits(admin, '/approvals/{id}');

// (5) Chat: the /tool palette, an approval decided elsewhere, the scripted model (chat.mjs).
await chatJourneys({ context, axe, shot, fits, member, check, adminPage: admin, adminApi });

// (5) and (6): the admin console and the audit ledger (admin.mjs).
await adminJourneys({ admin, viewer, base, check, axe, fits, shot });

// (7) Single sign-on through node oidc-provider (sso.mjs).
await ssoJourneys({ admin, context, base, opPort: Number(opPort), check, axe, shot });

// (8) AI providers as data (ai.mjs).
await aiJourneys({ admin, adminApi, check, axe, shot });

// (7) Portal settings and maintenance mode (portal.mjs; last, it changes the whole portal).
await portalJourneys({ admin, viewer, base, check, axe, shot });

// Close Chromium itself (not just the connection), then its whole process group.
const exited = new Promise((resolve) => chrome.once('exit', resolve));
await (await browser.newBrowserCDPSession()).send('Browser.close').catch(() => {});
await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
try { process.kill(-chrome.pid, 'SIGKILL'); } catch { /* already gone */ }
try {
  rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
} catch (e) {
  console.error(`warning: could not remove the Chromium profile ${profile}: ${e.message}`);
}
console.log(`${passed} passed, ${failed} failed`);
if (failed > 0) {
  console.error(`FAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
