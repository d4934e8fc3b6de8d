// AI provider journeys, run by journeys.mjs once the platform admin is signed
// in on `admin`: (8) the admin adds a model provider at /admin/ai-providers
// (the scripted model's server, which also backs the bootstrap provider),
// the key write-only; GET /api/models offers its model at once; disabling it
// withdraws the model; it is deleted. axe-core on the page.
const KEY = 'sk-ci-data-provider-key-0001';

export async function aiJourneys({ admin, adminApi, check, axe, shot }) {
  const listed = await (await adminApi.get('/api/admin/ai-providers')).json();
  const env = listed.providers[0];
  check(env?.source === 'environment', 'the bootstrap provider is listed, read-only');
  await admin.setViewportSize({ width: 1280, height: 800 });
  await admin.emulateMedia({ colorScheme: 'light' });
  await admin.goto('/admin/ai-providers');
  check(await admin.getByRole('heading', { name: 'AI providers' }).isVisible(), 'the AI providers page');
  await axe(admin, '/admin/ai-providers');
  await admin.getByLabel('Name', { exact: true }).fill('CI model');
  await admin.getByLabel('Type', { exact: true }).selectOption('openai-compatible');
  await admin.getByLabel('Base URL').fill(env.baseUrl);
  await admin.getByLabel('API key').fill(KEY);
  await admin.getByLabel('Default model').fill('ci-data-model');
  await admin.getByRole('button', { name: 'Add provider' }).click();
  check(await admin.locator('#ai-notice').isVisible(), 'the provider is saved');
  check(!(await admin.content()).includes(KEY), 'the key is not shown');
  const offered = await (await adminApi.get('/api/models')).json();
  check(offered.models.some((m) => m.id === 'ci-data-model' && m.source === 'database'),
    'GET /api/models offers the new model at once');
  await shot(admin, '8-ai-providers');

  const table = admin.locator('#ai-providers');
  await table.getByRole('button', { name: 'Disable' }).click();
  await admin.waitForURL((u) => u.pathname === '/admin/ai-providers');
  const after = await (await adminApi.get('/api/models')).json();
  check(!after.models.some((m) => m.id === 'ci-data-model'), 'a disabled provider is no longer offered');
  check(await table.getByRole('button', { name: 'Enable' }).isVisible(), 'it can be enabled again');
  await axe(admin, '/admin/ai-providers (disabled)');
  await table.getByRole('button', { name: 'Delete' }).click();
  await admin.waitForURL((u) => u.pathname === '/admin/ai-providers');
  const left = await (await adminApi.get('/api/admin/ai-providers')).json();
  check(left.providers.length === 1, 'only the bootstrap provider is left');
}
