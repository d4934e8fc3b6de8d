// Admin journeys, run by journeys.mjs with its helpers once the admin (signed
// in on `admin`) and a viewer (signed in on `viewer`) exist:
// (5) the admin creates an API key (shown once) and revokes it, and changes a
// member's role; the viewer sees no admin, approve or run controls and gets
// 403 when posting anyway; the tools catalogue and a run from the generated
// form; (6) audit verify shows intact. axe-core on each page.
export async function adminJourneys({ admin, viewer, base, check, axe, fits, shot }) {
  // (5) API key: created with ticked permissions, shown once, revoked.
  await admin.setViewportSize({ width: 1280, height: 800 });
  await admin.emulateMedia({ colorScheme: 'light' });
  await admin.goto('/admin/keys');
  await axe(admin, '/admin/keys');
  await admin.getByLabel('Name', { exact: true }).fill('ci-browser');
  await admin.getByRole('checkbox', { name: 'tools:read' }).check();
  await admin.getByRole('checkbox', { name: 'sessions:read' }).check();
  await admin.getByRole('button', { name: 'Create key' }).click();
  const secret = (await admin.locator('#new-key').innerText()).trim();
  check(secret.startsWith('portal_'), 'the new key is shown');
  await axe(admin, '/admin/keys (created)');
  await shot(admin, '5-api-key-created');
  const keyWorks = async () => (await admin.request.get('/api/sessions', {
    headers: { Authorization: `Bearer ${secret}`, Cookie: '' },
  })).status();
  check(await keyWorks() === 200, 'the key works');
  await admin.goto('/admin/keys');
  check(!(await admin.content()).includes(secret), 'the secret is not shown again');
  await admin.getByRole('button', { name: 'Revoke ci-browser' }).click();
  await admin.waitForURL((u) => u.search.includes('done=revoked'));
  check(await admin.locator('#done').isVisible(), 'the page says the key is revoked');
  check(await keyWorks() === 401, 'the revoked key is refused');

  // (5) A member's role: the viewer becomes operator, then viewer again.
  await admin.goto('/admin/members');
  await axe(admin, '/admin/members');
  await admin.getByLabel('Role of viewer@example.com').selectOption('operator');
  await admin.getByRole('button', { name: 'Change role of viewer@example.com' }).click();
  await admin.waitForURL((u) => u.search.includes('done=role'));
  check(await admin.getByLabel('Role of viewer@example.com').inputValue() === 'operator', 'the role is changed');
  await admin.getByLabel('Role of viewer@example.com').selectOption('viewer');
  await admin.getByRole('button', { name: 'Change role of viewer@example.com' }).click();
  await admin.waitForURL((u) => u.search.includes('done=role'));
  check(await admin.getByLabel('Role of viewer@example.com').inputValue() === 'viewer', 'and back to viewer');
  check(await admin.locator('#last-admin-rule').isVisible(), 'the last-admin rule is explained');
  await shot(admin, '5-members');

  await admin.goto('/admin/settings');
  await axe(admin, '/admin/settings');
  await admin.goto('/admin/orgs');
  await axe(admin, '/admin/orgs');
  await admin.goto('/account');
  await axe(admin, '/account');
  await shot(admin, '5-account');

  // (5) The viewer: no admin, audit, approve or run controls; posting anyway is 403.
  await viewer.goto('/');
  check(await viewer.getByRole('link', { name: 'Admin' }).count() === 0, 'the viewer has no admin link');
  check(await viewer.getByRole('link', { name: 'Audit' }).count() === 0, 'the viewer has no audit link');
  check(await viewer.getByRole('button', { name: /Approve|Run/ }).count() === 0, 'the viewer sees no approve or run controls');
  await viewer.goto('/tools/listInstances');
  check(await viewer.locator('#cannot-run').isVisible(), 'the viewer is told it cannot run tools');
  check(await viewer.getByRole('button', { name: /^Run/ }).count() === 0, 'the viewer sees no run button');
  await axe(viewer, '/tools/{name} (viewer)');
  const forgedRun = await viewer.request.post('/tools/listInstances', {
    form: { csrf: await viewer.locator('input[name="csrf"]').first().inputValue(), op: 'run' },
    headers: { Origin: base }, maxRedirects: 0,
  });
  check(forgedRun.status() === 403, `a forged run POST by the viewer gets 403 (${forgedRun.status()})`);
  await viewer.goto('/admin/keys');
  check(await viewer.getByRole('heading', { name: "You can't do that here" }).isVisible(), 'the viewer is refused the keys page (403)');
  await viewer.goto('/account');
  await fits(viewer, '/account');
  await axe(viewer, '/account (viewer, 375 px)');
  const csrf = await viewer.locator('input[name="csrf"]').first().inputValue();
  const forged = await viewer.request.post('/admin/keys', {
    form: { csrf, name: 'sneaky', permissions: 'tools:read' }, headers: { Origin: base }, maxRedirects: 0,
  });
  check(forged.status() === 403, `a forged key POST by the viewer gets 403 (${forged.status()})`);
  const forgedRole = await viewer.request.post('/admin/members/anyone/role', {
    form: { csrf, role: 'admin' }, headers: { Origin: base }, maxRedirects: 0,
  });
  check(forgedRole.status() === 403, `a forged role POST by the viewer gets 403 (${forgedRole.status()})`);
  await shot(viewer, '5-viewer-account-375px');

  // Tools: the catalogue's search, and a run from the generated form.
  await admin.setViewportSize({ width: 1280, height: 800 });
  await admin.goto('/tools');
  await axe(admin, '/tools');
  await admin.getByLabel('Name or description').fill('instance');
  await admin.getByLabel('Risk').selectOption('read');
  await admin.getByRole('button', { name: 'Search' }).click();
  await admin.getByRole('link', { name: 'listInstances' }).click();
  await admin.waitForURL((u) => u.pathname === '/tools/listInstances');
  await axe(admin, '/tools/listInstances');
  await admin.getByLabel('limit').fill('100000');
  await admin.getByRole('button', { name: 'Run listInstances' }).click();
  check(await admin.locator('#f-args-limit-error').isVisible(), 'the server\'s message shows on the limit field');
  await admin.getByLabel('limit').fill('5');
  await admin.getByRole('button', { name: 'Run listInstances' }).click();
  check(await admin.locator('#result').isVisible(), 'the run shows its result');
  await axe(admin, '/tools/listInstances (result)');
  await shot(admin, '5-tool-run');
  await admin.goto('/tools/updateSecurityListRules');
  await admin.getByRole('button', { name: 'Add an item to ingressSecurityRules' }).click();
  check(await admin.locator('[name="args/ingressSecurityRules/1/protocol"]').count() === 1, 'a list gets another slot');
  await axe(admin, '/tools/{name} (nested form)');

  // (6) Audit: verify shows intact.
  await admin.goto('/audit');
  await axe(admin, '/audit');
  await admin.getByRole('button', { name: 'Verify the chain' }).click();
  await admin.waitForURL((u) => u.search.includes('verify=1'));
  const state = (await admin.locator('#chain-state').innerText()).trim();
  check(state.startsWith('Intact.'), `audit verify shows intact (${state})`);
  await axe(admin, '/audit (verified)');
  await admin.setViewportSize({ width: 375, height: 740 });
  await fits(admin, '/audit');
  await shot(admin, '6-audit-verified-375px');
}
