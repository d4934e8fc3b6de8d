// Portal settings journey, run by journeys.mjs last (it changes the whole
// portal): the platform admin renames the portal, sets an accent colour and a
// terms link and turns maintenance on from /admin/portal; every page shows the
// banner (the viewer's too) and writes are refused with 503 MAINTENANCE while
// reads work; the admin turns it off again from the same page. axe-core on
// each page, the banner included.
export async function portalJourneys({ admin, viewer, base, check, axe, shot }) {
  await admin.setViewportSize({ width: 1280, height: 800 });
  await admin.emulateMedia({ colorScheme: 'light' });
  await admin.goto('/admin/portal');
  await axe(admin, '/admin/portal');
  await admin.getByLabel('Portal name').fill('Acme Cloud Desk');
  await admin.getByLabel('Accent colour (light theme)').fill('#1a5e20');
  await admin.getByLabel('Terms of use').fill('https://acme.example/terms');
  await admin.getByLabel(/Maintenance mode/).check();
  await admin.getByLabel('Banner message').fill('Upgrading the database until 14:00 UTC');
  await admin.getByRole('button', { name: 'Save', exact: true }).click();
  await admin.waitForURL((u) => u.search.includes('done=saved'));
  check(await admin.locator('#maintenance-banner').isVisible(), 'the admin sees the maintenance banner');
  check((await admin.title()).endsWith('· Acme Cloud Desk'), 'the title carries the new name');
  check((await admin.locator('a.brand').innerText()).includes('Acme Cloud Desk'), 'the header carries the new name');
  const accent = await admin.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent'));
  check(accent.includes('#1a5e20'), `the accent colour applies (${accent.trim()})`);
  check(await admin.getByRole('link', { name: 'Terms of use' }).isVisible(), 'the terms link is in the footer');
  await axe(admin, '/admin/portal (maintenance)');
  await shot(admin, '7-portal-maintenance');

  await viewer.goto('/');
  const banner = (await viewer.locator('#maintenance-banner').innerText()).trim();
  check(banner.includes('Upgrading the database until 14:00 UTC'), `the viewer sees the banner (${banner})`);
  await axe(viewer, '/ (maintenance)');
  const write = await viewer.request.post('/api/sessions', { data: { title: 'during' }, headers: { Origin: base } });
  const body = await write.json();
  check(write.status() === 503 && body.code === 'MAINTENANCE' && typeof body.requestId === 'string',
    `a write is refused with 503 MAINTENANCE (${write.status()} ${body.code})`);
  const read = await viewer.request.get('/api/sessions');
  check(read.status() === 200, `reads still work (${read.status()})`);
  await shot(viewer, '7-viewer-maintenance');

  await admin.goto('/admin/portal');
  await admin.getByLabel(/Maintenance mode/).uncheck();
  await admin.getByRole('button', { name: 'Save', exact: true }).click();
  await admin.waitForURL((u) => u.search.includes('done=saved'));
  check(await admin.locator('#maintenance-banner').count() === 0, 'the banner is gone');
  const after = await admin.request.post('/api/sessions', { data: { title: 'after' }, headers: { Origin: base } });
  check(after.status() === 201, `writes work again (${after.status()})`);
}
