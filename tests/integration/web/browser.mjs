// The dashboard's browser side of tests/integration/web: Playwright
// (web/node_modules/playwright-core) driving Debian's chromium headless.
//   node browser.mjs SCENARIO   with VESSEL_WEB='{"url", "token", "shots", ...}'
// Prints one JSON line of results; exits 1 with the reason on a failure
// (after a screenshot of the page as it was: <shots>/fail-<scenario>.png).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const { chromium } = createRequire(join(repo, 'web/package.json'))('playwright-core');
const cfg = JSON.parse(process.env.VESSEL_WEB || '{}');
const scenario = process.argv[2];
const out = {};
const T = 20000;

const shot = (page, name) => page.screenshot({ path: join(cfg.shots, name + '.png') });
const row = (page, name) => page.locator(`tr[data-name="${name}"]`);

async function open(browser, { token = cfg.token, width = 1366, height = 768, theme = 'light', hash = '#/' } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height }, colorScheme: theme, deviceScaleFactor: 1 });
  // layout shifts (Chromium's Layout Instability API), to tell whether
  // streaming data moves the page
  await ctx.addInitScript(() => {
    window.__shifts = [];
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) if (!e.hadRecentInput) window.__shifts.push([e.startTime, e.value]);
    }).observe({ type: 'layout-shift', buffered: true });
  });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => { out.pageErrors = (out.pageErrors || []).concat(String(e)); });
  const frag = token ? `#token=${encodeURIComponent(token)}&${hash.slice(1)}` : hash;
  await page.goto(cfg.url + '/' + frag);
  return page;
}

// The terminal's text (xterm.js keeps it in its buffer, not the DOM).
const termText = (page) => page.evaluate(() => {
  const b = window.__vesselTerm && window.__vesselTerm.buffer.active;
  if (!b) return '';
  const lines = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
  return lines.join('\n');
});

async function waitTerm(page, want, timeout) {
  const end = Date.now() + timeout;
  for (;;) {
    const t = await termText(page);
    if (t.includes(want)) return t;
    if (Date.now() > end) throw new Error(`the console did not show ${JSON.stringify(want)}; it shows:\n${t.slice(-1500)}`);
    await page.waitForTimeout(100);
  }
}

const scenarios = {
  // The list shows each running instance; first load timing; the overview's
  // screenshots in both themes and on a phone.
  async overview(browser) {
    const times = [];
    for (let i = 0; i < 5; i++) {
      const page = await open(browser);
      await page.waitForFunction(() => window.__vesselInteractive, null, { timeout: T });
      times.push(await page.evaluate(() => window.__vesselInteractive));
      await page.context().close();
    }
    out.interactive_ms = times.sort((a, b) => a - b)[2];
    out.interactive_all_ms = times;
    const page = await open(browser);
    for (const n of cfg.running) await row(page, n).and(page.locator('[data-state=running]')).waitFor({ timeout: T });
    out.rows = await page.locator('tr[data-name]').evaluateAll((rs) => rs.map((r) => [r.dataset.name, r.dataset.kind, r.dataset.state]));
    const since = await page.evaluate(() => performance.now());
    await page.waitForTimeout(9000); // a few samples in the sparklines
    // what moved once the list was on screen with its rows, while stats came in
    out.shift = await page.evaluate((t) => window.__shifts.filter((x) => x[0] > t).reduce((a, x) => a + x[1], 0), since);
    await shot(page, 'overview-1366-light');
    const dark = await open(browser, { theme: 'dark' });
    await row(dark, cfg.running[0]).waitFor({ timeout: T });
    await dark.waitForTimeout(3000);
    await shot(dark, 'overview-1366-dark');
    const phone = await open(browser, { width: 390, height: 844 });
    await row(phone, cfg.running[0]).waitFor({ timeout: T });
    await phone.waitForTimeout(3000);
    await shot(phone, 'overview-phone');
    await phone.setViewportSize({ width: 390, height: 1600 });
    await shot(phone, 'overview-phone-full');
  },

  // The stop button (and its confirmation) stops cfg.name; the row follows.
  async stop(browser) {
    const page = await open(browser);
    const r = row(page, cfg.name);
    await r.and(page.locator('[data-state=running]')).waitFor({ timeout: T });
    await r.locator('button[data-action=stop]').click();
    await page.locator('[data-testid=confirm]').waitFor({ timeout: T });
    await shot(page, 'confirm-stop');
    await page.locator('[data-testid=confirm]').click();
    await r.and(page.locator('[data-state=stopped], [data-state=exited]')).waitFor({ timeout: 60000 });
    out.state = await r.getAttribute('data-state');
    await shot(page, 'overview-after-stop');
  },

  // Pause (confirmed) and resume cfg.name; remove (confirmed) cfg.gone.
  async actions(browser) {
    const page = await open(browser);
    const r = row(page, cfg.name);
    const state = (st) => r.and(page.locator(`[data-state=${st}]`)).waitFor({ timeout: 60000 });
    await state('running');
    await r.locator('button[data-action=pause]').click();
    await page.locator('[data-testid=confirm]').click();
    await state('paused');
    out.paused = true;
    await r.locator('button[data-action=resume]').click(); // no confirmation
    await state('running');
    out.resumed = true;
    const g = row(page, cfg.gone);
    await g.locator('button[data-action=remove]').click();
    await page.locator('[data-testid=confirm]').click();
    await g.waitFor({ state: 'detached', timeout: 60000 });
    out.removed = true;
  },

  // A create dialog (cfg.kind 'vm' or 'container') creates and starts cfg.name.
  async create(browser) {
    const page = await open(browser);
    await page.locator('[data-testid=instances]').waitFor({ timeout: T });
    await page.locator(cfg.kind === 'vm' ? '[data-testid=new-vm]' : '[data-testid=new-container]').click();
    const form = page.locator('[data-testid=create-' + cfg.kind + ']');
    await form.waitFor({ timeout: T });
    for (const [k, v] of Object.entries(cfg.fields)) {
      const el = form.locator(`[name="${k}"]`);
      if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(v);
      else await el.fill(String(v));
    }
    await shot(page, 'create-' + cfg.kind);
    await form.locator('button[type=submit]').click();
    const err = form.locator('[data-testid=create-error]');
    await Promise.race([
      row(page, cfg.name).and(page.locator('[data-state=running]')).waitFor({ timeout: 60000 }),
      err.waitFor({ timeout: 60000 }).then(async () => { throw new Error('the dialog says: ' + await err.textContent()); }),
    ]);
    out.state = 'running';
  },

  // The console of cfg.name shows cfg.expect; with cfg.type, a typed line
  // gives cfg.want.
  async console(browser) {
    const page = await open(browser, { hash: '#/' + cfg.kind + '/' + encodeURIComponent(cfg.name) });
    await page.locator('button[data-tab=console]').click();
    await page.locator('[data-testid=console-state]', { hasText: 'open' }).waitFor({ timeout: T });
    out.before = (await waitTerm(page, cfg.expect, cfg.wait_ms || T)).slice(-300);
    if (cfg.type) {
      await page.locator('[data-testid=terminal]').click();
      await page.keyboard.type(cfg.type);
      await page.keyboard.press('Enter');
      out.after = (await waitTerm(page, cfg.want, 60000)).slice(-300);
    }
    await shot(page, 'console-' + cfg.name);
  },

  // A tty container's console: `stty size` in its shell gives the
  // terminal's rows and columns, and the new ones after the window shrinks
  // (the console sends {"resize":[cols,rows]}; docs/api.md).
  async ttysize(browser) {
    const page = await open(browser, { hash: '#/container/' + encodeURIComponent(cfg.name) });
    await page.locator('button[data-tab=console]').click();
    await page.locator('[data-testid=console-state]', { hasText: 'open' }).waitFor({ timeout: T });
    const ask = async (tag) => {
      const [rows, cols] = await page.evaluate(() => [window.__vesselTerm.rows, window.__vesselTerm.cols]);
      await page.locator('[data-testid=terminal]').click();
      await page.keyboard.type(`echo ${tag}-$(stty size | tr ' ' x)`);
      await page.keyboard.press('Enter');
      await waitTerm(page, `${tag}-${rows}x${cols}`, T);
      return [rows, cols];
    };
    out.before = await ask('size1');
    await shot(page, 'console-' + cfg.name);
    await page.setViewportSize({ width: 800, height: 500 });
    const end = Date.now() + T;
    while (String(await page.evaluate(() => [window.__vesselTerm.rows, window.__vesselTerm.cols])) === String(out.before)) {
      if (Date.now() > end) throw new Error('the terminal kept its size after the window shrank');
      await page.waitForTimeout(100);
    }
    out.after = await ask('size2');
    await shot(page, 'console-' + cfg.name + '-small');
  },

  // Every other view, for the screenshots (and no page errors on the way).
  async views(browser) {
    const page = await open(browser, { hash: '#/vm/' + encodeURIComponent(cfg.name) });
    await page.locator('[data-testid=state]').waitFor({ timeout: T });
    await page.waitForTimeout(5000);
    await shot(page, 'detail-vm');
    await page.locator('button[data-tab=log]').click();
    await page.locator('[data-testid=log]').or(page.locator('.notice')).first().waitFor({ timeout: T });
    await page.waitForTimeout(500);
    out.log = ((await page.locator('[data-testid=log]').textContent().catch(() => '')) || '').slice(-200);
    await shot(page, 'detail-vm-log');
    await page.locator('button[data-tab=disks]').click();
    await page.waitForTimeout(500);
    await shot(page, 'detail-vm-disks');
    for (const v of ['images', 'networks', 'disks']) {
      await page.goto(cfg.url + '/#/' + v);
      await page.locator(`[data-testid=list-${v}]`).waitFor({ timeout: T });
      await page.waitForTimeout(700);
      await shot(page, 'list-' + v);
    }
    await page.goto(cfg.url + '/#/');
    await page.locator('[data-testid=new-vm]').click();
    await page.waitForTimeout(400);
    await shot(page, 'create-vm-dialog');
    const dark = await open(browser, { theme: 'dark', hash: '#/vm/' + encodeURIComponent(cfg.name) });
    await dark.locator('[data-testid=state]').waitFor({ timeout: T });
    await dark.waitForTimeout(4000);
    await shot(dark, 'detail-vm-dark');
    const phone = await open(browser, { width: 390, height: 844, hash: '#/vm/' + encodeURIComponent(cfg.name) });
    await phone.locator('[data-testid=state]').waitFor({ timeout: T });
    await phone.waitForTimeout(3000);
    await shot(phone, 'detail-vm-phone');
  },

  // A VM's disks tab: its disk (cfg.disk) as /v1/disks knows it, and a
  // snapshot taken through the form appears in its table.
  async snapshot(browser) {
    const page = await open(browser, { hash: '#/vm/' + encodeURIComponent(cfg.name) });
    await page.locator('button[data-tab=disks]').click();
    const card = page.locator('[data-testid=snapshots]');
    await card.locator('.disk', { hasText: cfg.disk }).locator('.snap-form').waitFor({ timeout: T });
    await card.locator('.snap-form input').fill(cfg.snap);
    await card.locator('.snap-form button[type=submit]').click();
    await card.locator('td', { hasText: cfg.snap }).waitFor({ timeout: T });
    out.rows = await card.locator('tbody tr').allTextContents();
    await shot(page, 'detail-vm-snapshots');
    await page.goto(cfg.url + '/#/disks');
    await page.locator('[data-testid=list-disks] td', { hasText: cfg.diskName }).first().waitFor({ timeout: T });
    await shot(page, 'list-disks');
  },

  // A container's page: live graphs from its stats stream, and its log.
  async ctrviews(browser) {
    const page = await open(browser, { hash: '#/container/' + encodeURIComponent(cfg.name) });
    await page.locator('[data-testid=state]').waitFor({ timeout: T });
    await page.waitForTimeout(6000);
    out.graph = await page.locator('.graph-head b').allTextContents();
    await shot(page, 'detail-container');
    await page.locator('button[data-tab=log]').click();
    await page.locator('[data-testid=log]', { hasText: cfg.expect }).waitFor({ timeout: T });
    out.log = (await page.locator('[data-testid=log]').textContent()).slice(-200);
    await shot(page, 'detail-container-log');
    const dark = await open(browser, { theme: 'dark' });
    await row(dark, cfg.name).waitFor({ timeout: T });
    await dark.waitForTimeout(5000);
    await shot(dark, 'overview-containers-dark');
  },

  // Without a token: the login form; a wrong token is refused, the right one
  // lands on the overview (and stays in the tab's session storage).
  async login(browser) {
    const page = await open(browser, { token: '' });
    const form = page.locator('[data-testid=login]');
    await form.waitFor({ timeout: T });
    await shot(page, 'login');
    await form.locator('input[name=token]').fill('not-the-token-at-all');
    await form.locator('button[type=submit]').click();
    await page.locator('[data-testid=login-error]').waitFor({ timeout: T });
    out.wrong = await page.locator('[data-testid=login-error]').textContent();
    await shot(page, 'login-refused');
    await form.locator('input[name=token]').fill(cfg.token);
    await form.locator('button[type=submit]').click();
    await page.locator('[data-testid=instances]').waitFor({ timeout: T });
    out.stored = await page.evaluate(() => sessionStorage.getItem('vessel.token')) === cfg.token;
    await page.reload();
    await page.locator('[data-testid=instances]').waitFor({ timeout: T });
    out.url = page.url();
  },
};

const browser = await chromium.launch({ executablePath: cfg.chromium || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
let page0 = null;
try {
  if (!scenarios[scenario]) throw new Error('no scenario ' + scenario);
  await scenarios[scenario](browser);
  console.log(JSON.stringify(out));
} catch (e) {
  for (const c of browser.contexts()) for (const p of c.pages()) page0 = p;
  if (page0) await shot(page0, 'fail-' + scenario).catch(() => {});
  console.log(JSON.stringify(out));
  console.error(`${scenario}: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
