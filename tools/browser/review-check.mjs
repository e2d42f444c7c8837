#!/usr/bin/env node
// Opens a moonbatch review page from disk in real headless Chromium (Debian's, driven by
// playwright-core), does what a reviewer does, and prints ONE JSON object of what it saw.
//
//   node tools/browser/review-check.mjs --page OUT/review/index.html
//        [--approve IMAGE_PATH]... [--edit IMAGE_PATH=NEW TEXT]... [--download FILE]
//        [--search TEXT] [--filter-change all|new|changed|unchanged|removed] [--screenshot FILE]
//
// Fields: see tools/browser/README.md. Exits non-zero on any exception.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function parseArgs(argv) {
  const opts = { approve: [], edit: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--page': opts.page = next(); break;
      case '--approve': opts.approve.push(next()); break;
      case '--edit': {
        const v = next();
        const eq = v.indexOf('=', v.indexOf(':') + 1);
        if (eq < 0) throw new Error('--edit expects IMAGE_PATH=NEW TEXT');
        opts.edit.push({ path: v.slice(0, eq), text: v.slice(eq + 1) });
        break;
      }
      case '--download': opts.download = next(); break;
      case '--search': opts.search = next(); break;
      case '--filter-change': opts.filterChange = next(); break;
      case '--screenshot': opts.screenshot = next(); break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!opts.page) throw new Error('--page is required');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const profile = mkdtempSync(join(tmpdir(), 'moonbatch-chromium-'));
const result = {
  networkRequests: [], failedRequests: [], consoleErrors: [], pageErrors: [], total: 0, visible: 0,
  defaultOrder: [], searchResults: null, filter: null, injected: false, decisions: [], timings: {}, downloaded: null,
};

const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  acceptDownloads: true,
  viewport: { width: 1400, height: 1000 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--allow-file-access-from-files'],
});
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith('file:') && !url.startsWith('blob:') && !url.startsWith('data:')) result.networkRequests.push(url);
  });
  page.on('requestfailed', (req) => result.failedRequests.push(`${req.url()} ${req.failure()?.errorText ?? ''}`));
  page.on('console', (msg) => { if (msg.type() === 'error') result.consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => result.pageErrors.push(String(err)));
  // A hostile file name that ran as markup would set this; nothing on the page may.
  await page.addInitScript(() => { window.__injected = false; });

  const url = pathToFileURL(resolve(opts.page)).href;
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  result.timings.loadMs = Date.now() - t0;

  const counts = async () => ({
    total: Number(await page.textContent('[data-testid=total-count]')),
    visible: Number(await page.textContent('[data-testid=visible-count]')),
  });
  Object.assign(result, await counts());
  result.charts = await page.$$eval('svg[data-testid^=chart-]', (els) => els.map((e) => ({
    id: e.getAttribute('data-testid'), bars: e.querySelectorAll('rect').length,
    width: e.getBoundingClientRect().width, height: e.getBoundingClientRect().height })));
  result.header = await page.$$eval('[data-testid=summary] .stat', (els) => els.map((e) => e.textContent.trim()));
  result.scopeNote = await page.$eval('[data-testid=scope-note]', (e) => (e.hidden ? null : e.textContent));
  result.renderedRows = await page.locator('[data-testid=row]').count();
  // regions drawn over each rendered row's thumbnail: how many polygons, and whether each lies inside the thumbnail
  result.regions = await page.$$eval('[data-testid=row]', (els) => els.map((e) => {
    const thumb = e.querySelector('.thumb');
    const t = thumb ? thumb.getBoundingClientRect() : null;
    const polys = Array.from(e.querySelectorAll('[data-testid=region]'));
    return { path: e.getAttribute('data-path'), drawn: polys.length,
      inside: polys.every((p) => { const b = p.getBoundingClientRect();
        return t && b.width > 0 && b.height > 0 && b.left >= t.left - 1 && b.right <= t.right + 1
          && b.top >= t.top - 1 && b.bottom <= t.bottom + 1; }) };
  }));
  result.defaultOrder = await page.$$eval('[data-testid=row]', (els) => els
    .map((e) => ({ top: parseFloat(e.style.top), path: e.getAttribute('data-path'),
      confidence: e.getAttribute('data-confidence') === '' ? null : Number(e.getAttribute('data-confidence')),
      error: e.getAttribute('data-error') === '1' }))
    .sort((a, b) => a.top - b.top).slice(0, 20).map(({ top, ...rest }) => rest));

  // a filter: errors only, timed from the change to the re-render
  const f0 = Date.now();
  await page.check('[data-testid=filter-errors]');
  await page.waitForFunction(() => document.body.dataset.filterMs !== undefined);
  result.filter = { errorsOnly: (await counts()).visible, filterMs: Date.now() - f0,
    pageFilterMs: Number(await page.evaluate(() => document.body.dataset.filterMs)) };
  result.timings.filterMs = result.filter.filterMs;
  await page.uncheck('[data-testid=filter-errors]');

  if (opts.filterChange) {
    await page.selectOption('[data-testid=filter-change]', opts.filterChange);
    result.filter.change = { value: opts.filterChange, visible: (await counts()).visible };
    await page.selectOption('[data-testid=filter-change]', 'tonight');
  }

  if (opts.search !== undefined) {
    await page.fill('[data-testid=filter-search]', opts.search);
    await page.waitForTimeout(400);
    const found = await page.$$eval('[data-testid=row]', (els) => els.map((e) => ({
      path: e.getAttribute('data-path'),
      filename: e.querySelector('[data-testid=filename]')?.textContent ?? null,
      pathText: e.querySelector('[data-testid=path]')?.textContent ?? null,
      childElements: e.querySelector('[data-testid=filename]')?.children.length ?? -1,
    })));
    const wanted = opts.search;
    result.searchResults = {
      visible: (await counts()).visible,
      rows: found,
      // literal: the searched name shows as exactly that text, and no element was made from it
      literal: found.length > 0 && found.every((r) => r.filename !== null && r.filename.includes(wanted)
        && r.pathText.includes(wanted) && r.childElements === 0),
    };
    await page.fill('[data-testid=filter-search]', '');
    await page.waitForTimeout(300);
  }

  // show every row so the reviewer's rows can be found whatever the default view holds
  await page.selectOption('[data-testid=filter-change]', 'all');
  const rowFor = async (path) => {
    await page.fill('[data-testid=filter-search]', path);
    await page.waitForTimeout(300);
    const row = page.locator(`[data-testid=row][data-path="${path.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"]`);
    if (await row.count() !== 1) throw new Error(`no single row on the page for ${path}`);
    return row;
  };
  for (const path of opts.approve) {
    const row = await rowFor(path);
    await row.locator('[data-testid=approve]').click();
    result.decisions.push({ path, status: 'approved' });
  }
  for (const { path, text } of opts.edit) {
    const row = await rowFor(path);
    await row.locator('[data-testid=edit]').click();
    await row.locator('[data-testid=edit-text]').fill(text);
    await row.locator('[data-testid=save]').click();
    result.decisions.push({ path, status: 'edited', text });
  }
  await page.fill('[data-testid=filter-search]', '');
  await page.selectOption('[data-testid=filter-change]', 'tonight');
  result.decided = Number(await page.textContent('[data-testid=decided-count]'));

  if (opts.screenshot) {
    await page.waitForTimeout(300);
    await page.screenshot({ path: opts.screenshot });
  }
  if (opts.download) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download]')]);
    const saved = await download.path();
    copyFileSync(saved, opts.download);
    result.downloaded = resolve(opts.download);
  }
  result.injected = await page.evaluate(() => window.__injected === true);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');
