// Single sign-on journeys, run by journeys.mjs once the platform admin is
// signed in on `admin`: (7) the admin adds node oidc-provider (a real OpenID
// Provider, from .ci/oidc) at /admin/idp, the secret write-only, and tests
// the connection; a new browser signs in with "Sign in with CI OP" through the
// OP's login and consent pages (authorization code + PKCE) and lands as an
// operator by group; signing out continues to the OP (RP-initiated logout:
// the portal's hand-off page, followed by its module under the strict CSP),
// which asks to confirm and sends the browser back to the portal's sign-in
// page. axe-core on the portal's pages.
import { startOp, CLIENT_ID, CLIENT_SECRET } from '../oidc/op.mjs';

export async function ssoJourneys({ admin, context, base, opPort, check, axe, shot }) {
  const op = await startOp(opPort, `${base}/auth/sso/callback`, `${base}/login`);
  try {
    await admin.setViewportSize({ width: 1280, height: 800 });
    await admin.emulateMedia({ colorScheme: 'light' });
    await admin.goto('/admin/idp');
    check(await admin.getByRole('heading', { name: 'Identity providers' }).isVisible(), 'the identity providers page');
    await axe(admin, '/admin/idp');
    await admin.getByLabel('Name (on the sign-in button)').fill('CI OP');
    await admin.getByLabel('Issuer').fill(op.issuer);
    await admin.getByLabel('Client id').fill(CLIENT_ID);
    await admin.getByLabel('Client secret').fill(CLIENT_SECRET);
    await admin.getByLabel('Scopes').fill('email profile groups');
    await admin.getByLabel('Groups are read from').selectOption('userinfo');
    await admin.getByLabel('Admin groups').fill('portal-admins');
    await admin.getByLabel('Operator groups').fill('portal-operators');
    await admin.getByLabel('Default organisation').selectOption({ index: 1 });
    await admin.getByLabel('Create accounts at first sign-in').check();
    await admin.getByRole('button', { name: 'Add provider' }).click();
    check(await admin.locator('#idp-notice').isVisible(), 'the provider is saved');
    check(!(await admin.content()).includes(CLIENT_SECRET), 'the client secret is not shown');
    await admin.getByRole('button', { name: 'Test connection' }).click();
    const notice = await admin.locator('#idp-notice').innerText();
    check(notice.startsWith('Connection works'), `test connection passes (${notice})`);
    await axe(admin, '/admin/idp (tested)');
    await shot(admin, '7-identity-providers');

    const ctx = await context('sso');
    const page = await ctx.newPage();
    await page.goto('/login');
    const button = page.getByRole('link', { name: 'Sign in with CI OP' });
    check(await button.isVisible(), 'the sign-in page offers "Sign in with CI OP"');
    await axe(page, '/login (with SSO)');
    await shot(page, '7-login-sso');
    await button.click();
    await page.waitForURL((u) => u.origin === op.issuer);
    await page.locator('input[name="login"]').fill('op-grace');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((u) => u.origin === op.issuer && u.pathname.startsWith('/interaction'));
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((u) => u.origin === base);
    check(new URL(page.url()).pathname === '/', `back in the portal, signed in (${page.url()})`);
    const who = await (await page.request.get('/api/auth/get-session')).json();
    check(who.user?.email === 'op-grace@example.com', 'signed in as the OP account');
    check(who.role === 'operator', `an operator by group (${who.role})`);
    await shot(page, '7-signed-in-by-sso');

    await page.locator('header form[action="/logout"] button[type="submit"]').click();
    await page.waitForURL((u) => u.origin === op.issuer);
    const atOp = new URL(page.url());
    check(atOp.searchParams.has('id_token_hint'), `signing out continues at the OP (${atOp.origin}${atOp.pathname}, with id_token_hint)`);
    await page.getByRole('button', { name: /yes, sign me out/i }).click();
    await page.waitForURL((u) => u.origin === base && u.pathname === '/login');
    const after = await page.request.get('/api/auth/get-session');
    check(after.status() === 401, `signed out of the portal (${after.status()})`);
    await shot(page, '7-signed-out-by-sso');
    await ctx.close();
  } finally {
    op.close();
  }
}
