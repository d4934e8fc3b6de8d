// Chat journeys, run by journeys.mjs with its browser and helpers:
// (a) an operator runs `/tool listInstances` from the palette and sees a table;
// (b) the operator asks to stop an instance and sees "waiting for approval"; an
//     admin in a second browser context approves from /approvals; the operator's
//     open page shows the result without a reload;
// (c) the scripted fake model (.ci/browser/model-script.json) streams markdown
//     and a tool call: the card's states and the rendered markdown are checked,
//     live and after a reload; axe-core on the chat page;
// (d) around them: a page reopened while its turn waits, Esc and Stop, N on a
//     focused approval card, cost charts and Terraform files.

/** Records every state the tool cards of `page` pass through, in order. */
async function watchCards(page) {
  await page.evaluate(() => {
    window.cardStates = [];
    const seen = (n) => window.cardStates.push(`${n.querySelector('.tool-name')?.textContent}:${n.dataset.state}`);
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes' && r.target.classList?.contains('tool-card')) seen(r.target);
        for (const n of r.addedNodes ?? []) if (n.classList?.contains('tool-card')) seen(n);
      }
    }).observe(document.getElementById('messages'), { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  });
}

const states = (page) => page.evaluate(() => window.cardStates);

/** The journeys; a step that throws fails the run but lets the caller close Chromium. */
export async function chatJourneys(h) {
  try {
    await journeys(h);
  } catch (e) {
    h.check(false, `chat journeys ran to the end (${e.message.split('\n')[0]})`);
  }
}

async function journeys({ context, axe, shot, fits, member, check, adminPage, adminApi }) {
  const opApi = await member(adminApi, 'chat-op@example.com', 'operator');
  const opCtx = await context('chat operator');
  const op = await opCtx.newPage();
  await op.goto('/login?next=/chat');
  await op.getByLabel('Email').fill('chat-op@example.com');
  await op.getByLabel('Password').fill('a long passphrase for the browser');
  await op.getByRole('button', { name: 'Sign in' }).click();
  await op.waitForURL((u) => u.pathname === '/chat');
  await op.locator('#model-pick:not([hidden])').waitFor();
  check(await op.getByLabel('Model').inputValue() === 'scripted-model', 'the model picker offers the configured model (GET /api/models)');
  let navigations = 0;
  op.on('framenavigated', (f) => { if (f === op.mainFrame()) navigations += 1; });

  // (a) `/tool listInstances` from the palette: name completion, argument form, a table.
  const prompt = op.getByLabel('Message');
  await prompt.fill('');
  await prompt.pressSequentially('/tool listInst');
  const option = (name) => op.locator('#tool-palette [role="option"]').filter({ has: op.locator('code', { hasText: new RegExp(`^${name}$`) }) });
  await option('listInstances').waitFor();
  check(await op.locator('#tool-palette [role="option"]').count() >= 1, 'typing /tool lists matching tools');
  await option('listInstances').click();
  const form = op.getByRole('form', { name: 'Arguments of listInstances' });
  await form.waitFor();
  check(await form.getByLabel(/lifecycleState/).count() === 1, 'the palette builds an argument form from the schema');
  await watchCards(op);
  await form.getByRole('button', { name: 'Run tool' }).click();
  const listCard = op.locator('.tool-card', { hasText: 'listInstances' }).last();
  await listCard.locator('table.result-table').waitFor({ timeout: 20000 });
  await op.waitForURL((u) => /^\/chat\/[\w-]+$/.test(u.pathname));
  const rows = await listCard.locator('table.result-table tbody tr').count();
  check(rows > 0, `listInstances shows a table of instances (${rows} rows)`);
  check(await listCard.getAttribute('data-state') === 'done', 'the card ends done');
  check(/\d+ ms/.test(await listCard.locator('.tool-time').innerText()), 'the card shows its duration');
  const seenA = await states(op);
  check(seenA.includes('listInstances:running') && seenA.at(-1) === 'listInstances:done', `card states pending → running → done (${seenA.join(', ')})`);
  check(await op.locator('#session-list a[aria-current="page"]').count() === 1, 'the new chat appears in the sidebar');
  await shot(op, 'chat-a-tool-table');

  // (b) A call that needs an approval; someone else approves; the page resumes live.
  const list = await opApi.post('/api/v1/tools/listInstances/execute', { data: { args: { lifecycleState: 'RUNNING' } } });
  const running = ((await list.json()).result?.items ?? [])[0];
  check(Boolean(running), 'a running instance to stop');
  await prompt.fill('/tool stopInstance');
  await option('stopInstance').click();
  const stopForm = op.getByRole('form', { name: 'Arguments of stopInstance' });
  await stopForm.waitFor();
  await stopForm.getByLabel(/instanceId/).fill(running?.id ?? 'none');
  await stopForm.getByRole('button', { name: 'Run tool' }).click();
  const stopCard = op.locator('.tool-card', { hasText: 'stopInstance' }).last();
  await stopCard.locator('.approval-card').waitFor({ timeout: 20000 });
  check(await stopCard.getByText('Waiting for approval', { exact: true }).isVisible(), 'the operator sees "waiting for approval"');
  check(await stopCard.getAttribute('data-state') === 'approval', 'the card waits for the approval');
  const approvalId = await stopCard.locator('.approval-card').getAttribute('data-approval');
  check(await stopCard.locator('.approval-card dl.args').innerText().then((t) => t.includes(running?.id ?? '?')), 'the card shows the redacted arguments');
  const link = stopCard.locator('[data-copy]');
  check((await link.inputValue()).endsWith(`/approvals/${approvalId}`), 'a copyable link to /approvals/{id}');
  await axe(op, '/chat/{id} (waiting for approval)');
  await shot(op, 'chat-b-waiting');
  // Reopened while it waits, the page picks the turn up from its stream.
  await op.reload();
  await stopCard.locator('.approval-card').waitFor({ timeout: 20000 });
  check(await op.locator('.tool-card', { hasText: 'stopInstance' }).count() === 1, 'reopened: the waiting call shows once, from the stream');
  const before = navigations;

  await adminPage.goto('/approvals');
  await adminPage.locator(`a[href="/approvals/${approvalId}"]`).first().click();
  await adminPage.waitForURL((u) => u.pathname === `/approvals/${approvalId}`);
  await adminPage.getByRole('button', { name: 'Approve' }).click();
  // Approved, and soon spent by the resumed turn.
  await adminPage.locator('#approval-status', { hasText: /approved|consumed/ }).waitFor({ timeout: 10000 }).catch(() => {});
  const decided = (await adminPage.locator('#approval-status').innerText()).trim();
  check(decided === 'approved' || decided === 'consumed', `the admin approves from /approvals (${decided})`);

  await op.locator('.tool-card[data-state="done"]', { hasText: 'stopInstance' }).last().waitFor({ timeout: 30000 }).catch(() => {});
  check(await stopCard.getAttribute('data-state') === 'done', 'the operator\'s open page shows the call done');
  check(await stopCard.locator('.approval-card').count() === 0 && await stopCard.locator('.tool-result').count() === 1, 'the result replaces the approval card');
  check(navigations === before, 'without a reload');
  await shot(op, 'chat-b-resumed');

  // (d) Esc stops a turn that waits for an approval: the call is not run.
  await prompt.fill(`/tool stopInstance ${JSON.stringify({ instanceId: running?.id ?? 'none' })}`);
  await prompt.press('Enter');
  const ended = op.locator('.tool-card', { hasText: 'stopInstance' }).last();
  await ended.locator('.approval-card').waitFor({ timeout: 20000 });
  await op.keyboard.press('Escape');
  await op.locator('#chat-status', { hasText: 'Stopped' }).waitFor({ timeout: 10000 }).catch(() => {});
  check(await ended.getAttribute('data-state') === 'failed' && (await ended.locator('.tool-state').innerText()) === 'not run', 'Esc stops the waiting turn: the call is not run');
  check(await ended.locator('.approval-card').count() === 0, 'its approval controls are gone');
  check(await op.locator('#stop').isHidden() && await op.locator('#send').isEnabled(), 'the composer is ready again');

  // An approver decides on the card itself: N (card focused) rejects, and the turn goes on.
  await prompt.fill(`/tool stopInstance ${JSON.stringify({ instanceId: running?.id ?? 'none' })}`);
  await prompt.press('Enter');
  const inline = op.locator('.tool-card', { hasText: 'stopInstance' }).last();
  await inline.locator('.approval-card form.decide').waitFor({ timeout: 20000 });
  // Focus the card first (the key belongs to the card, not the page), and wait on this
  // card itself: the earlier, stopped stopInstance card is already "failed".
  const card = inline.locator('.approval-card');
  await card.focus();
  await op.waitForFunction(() => document.activeElement?.classList.contains('approval-card'), null, { timeout: 5000 }).catch(() => {});
  await card.press('n');
  await inline.locator('.tool-state', { hasText: 'rejected' }).waitFor({ timeout: 20000 }).catch(() => {});
  check(await inline.getAttribute('data-state') === 'failed' && (await inline.locator('.tool-state').innerText()) === 'rejected',
    'N on a focused approval card rejects it, live');
  await op.locator('#chat-status', { hasText: 'Ready' }).waitFor({ timeout: 10000 }).catch(() => {});

  // Readable results beyond tables: cost as a chart, Terraform with copy and download.
  await prompt.fill('/tool getUsageCost {"days": 7}');
  await prompt.press('Enter');
  const costCard = op.locator('.tool-card', { hasText: 'getUsageCost' }).last();
  await costCard.locator('[data-state="done"], .tool-result').first().waitFor({ timeout: 20000 });
  check(await costCard.locator('svg.cost-chart[role="img"] rect.chart-bar').count() > 0, 'a cost tool draws its cost by service');
  await prompt.fill('/tool generateTerraform {"name": "demo"}');
  await prompt.press('Enter');
  const tfCard = op.locator('.tool-card', { hasText: 'generateTerraform' }).last();
  await tfCard.locator('.tool-result').waitFor({ timeout: 20000 });
  check(await tfCard.locator('a[download="main.tf"]').count() === 1 && await tfCard.getByRole('button', { name: 'Copy' }).count() >= 3,
    'Terraform comes with copy and download per file');
  await axe(op, '/chat/{id} (cost chart, Terraform)');
  await shot(op, 'chat-d-cost-terraform');

  // (c) The scripted model: markdown streams, a tool call runs, the answer goes on.
  await op.getByRole('link', { name: 'New chat' }).click();
  await op.waitForURL((u) => u.pathname === '/chat');
  await watchCards(op);
  await prompt.fill('How is my fleet doing?');
  await prompt.press('Enter');
  const answer = op.locator('article.msg.assistant').last();
  await answer.locator('.body.md h2').first().waitFor({ timeout: 20000 });
  const modelCard = answer.locator('.tool-card', { hasText: 'listInstances' });
  await modelCard.locator('table.result-table').waitFor({ timeout: 20000 });
  await answer.locator('.body.md table').waitFor({ timeout: 20000 });
  await op.locator('#chat-status', { hasText: 'Ready' }).waitFor({ timeout: 20000 });
  check((await answer.locator('.body.md h2').first().innerText()).trim() === 'Fleet check', 'streamed markdown: a heading');
  const seenC = await states(op);
  check(seenC.includes('listInstances:running') && seenC.at(-1) === 'listInstances:done', `the model's call: running → done (${seenC.join(', ')})`);
  check(await answer.locator('.body.md strong').first().innerText() === 'fine', 'streamed markdown: bold');
  check(await answer.locator('.body.md code', { hasText: 'listInstances' }).count() >= 1, 'streamed markdown: code');
  check(await answer.locator('.body.md table th').count() === 2, 'streamed markdown: a table');
  check(await answer.locator('.body.md script, .body.md img[onerror]').count() === 0, 'no script survives the sanitiser');
  await shot(op, 'chat-c-model-live');
  await op.reload();
  const stored = op.locator('article.msg.assistant');
  check(await stored.locator('.body.md h2', { hasText: 'Fleet check' }).count() === 1, 'after a reload: the server renders the same markdown');
  check(await stored.locator('.tool-card[data-state="done"] table.result-table').count() === 1, 'after a reload: the stored card shows its table');
  await axe(op, '/chat/{id}');
  await op.setViewportSize({ width: 375, height: 740 });
  await fits(op, '/chat/{id}');
  await shot(op, 'chat-c-model-375px');

  // Stop cancels a turn while the model streams.
  await prompt.fill('Tell me a long story');
  await prompt.press('Enter');
  const story = op.locator('article.msg.assistant').last();
  await story.locator('.body.md.streaming', { hasText: 'Once upon a time' }).waitFor({ timeout: 20000 });
  await op.getByRole('button', { name: 'Stop' }).click();
  await story.locator('.notice', { hasText: 'Stopped.' }).waitFor({ timeout: 10000 }).catch(() => {});
  check(await story.locator('.notice', { hasText: 'Stopped.' }).count() === 1, 'Stop cancels the streaming answer');
  check(!(await story.innerText()).includes('that is the end'), 'the answer did not run to its end');
  check(await op.locator('#send').isEnabled() && await op.locator('#stop').isHidden(), 'ready for the next message');
  await opCtx.close();
}
