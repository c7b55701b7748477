import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAuditLog } from '@recomart/audit';
import { queueName } from '@recomart/jobs';
import { CONTRACT_HEADER } from '@recomart/sources';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFailedJob } from './failed-job.js';
import { OPERATOR, OPERATOR_PASSWORD, startOpsStack, type OpsStack } from './ops-stack.js';

// scripts/test-services.sh exports where it found (or installed) Debian's chromium.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots for a person to look at (gitignored). */
const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test-output/board');
const DATE = '2026-11-20';
/** How long the UI may take to load or to poll a change in. */
const UI = { timeout: 20_000 };
const XSS_REASON = '<script>window.__xssReason = 1</script><img src=x onerror="window.__xssImg = 1">';
const XSS_DATA = '<img src=x onerror="window.__xssData = 1">';

let s: OpsStack;
let browser: Browser;
let origin: string;

/** A fresh browser context that can reach the board and nothing else. */
async function newContext(credentials?: { username: string; password: string }): Promise<BrowserContext> {
  const context = await browser.newContext({
    ...(credentials ? { httpCredentials: credentials } : {}),
    viewport: { width: 1280, height: 800 },
  });
  await context.route('**/*', (route) => (new URL(route.request().url()).origin === origin ? route.continue() : route.abort()));
  return context;
}

/** Fails the test on any dialog a page opens (an injected `alert` would be one). */
function watchForDialogs(page: Page): string[] {
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => undefined);
  });
  return dialogs;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  await mkdir(SHOTS, { recursive: true });
  s = await startOpsStack('board-browser');
  origin = s.board.url.slice(0, -1);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('the board in a real browser (headless Chromium)', () => {
  it('asks for credentials: without them, or with a wrong password, the browser does not get in', async () => {
    for (const credentials of [undefined, { username: OPERATOR, password: 'wrong' }]) {
      const context = await newContext(credentials);
      try {
        const page = await context.newPage();
        // Headless Chromium cannot show the login prompt: it shows the 401 or fails the navigation.
        const outcome = await page.goto(s.board.url).then(
          (res) => String(res?.status()),
          (err: Error) => err.message,
        );
        expect(outcome).toMatch(/^401$|ERR_INVALID_AUTH_CREDENTIALS/);
        expect(await page.title()).not.toContain('RecoMart ingest');
      } finally {
        await context.close();
      }
    }
  });

  it('logs in, opens the failed job, retries it and sees it complete', async () => {
    await s.writeLanding(DATE, 'part-0001.csv', 'uid,pid,kind\n1,2,view\n');
    const jobId = await s.enqueue(DATE);
    await s.waitFor(jobId, 'failed');

    const context = await newContext({ username: OPERATOR, password: OPERATOR_PASSWORD });
    try {
      const page = await context.newPage();
      const dialogs = watchForDialogs(page);
      await page.goto(s.board.url);
      await page.getByRole('link', { name: queueName('clickstream') }).first().click();
      const listed = page.getByText(jobId).first();
      await listed.waitFor();
      await page.screenshot({ path: path.join(SHOTS, '01-queue.png') });

      await listed.click();
      await page.waitForURL(`**/queue/${queueName('clickstream')}/${jobId}`);
      await expect.poll(() => page.locator('body').innerText(), UI).toContain('header is missing');
      await page.screenshot({ path: path.join(SHOTS, '02-failed-job.png') });

      await s.writeLanding(DATE, 'part-0001.csv', `${CONTRACT_HEADER}\nu1,p1,view,${DATE}T10:00:00Z,web\n`);
      const completed = s.waitFor(jobId, 'completed');
      const retry = page.locator('button:has(svg.lucide-refresh-cw)').first();
      await retry.hover();
      await expect.poll(() => page.getByText('Retry', { exact: true }).count(), UI).toBeGreaterThan(0);
      await retry.click();
      await page.getByRole('button', { name: 'Confirm' }).click();
      await completed;

      await page.getByText('Finished at').waitFor();
      await expect.poll(() => page.locator('body').innerText(), UI).toContain('"committed"');
      await page.screenshot({ path: path.join(SHOTS, '03-completed-job.png') });
      expect((await s.queue.getJob(jobId))?.returnvalue).toMatchObject({ status: 'committed', version: 1 });
      expect(dialogs).toEqual([]);
      // The browser's retry passed the same-origin check and is in the audit log under the operator's name.
      await s.sink.drained();
      const { events } = await readAuditLog(s.sink.logDir, { jobId });
      expect(events.filter((e) => e.type === 'operator-action')).toMatchObject([{ operator: OPERATOR, action: 'retry', jobId }]);
    } finally {
      await context.close();
    }
  });

  it('shows a <script> in a failure reason and in job data as text, and runs none of it', async () => {
    const jobId = 'products__2026-11-21';
    await seedFailedJob(s.t.config.redisUrl, s.t.prefix, 'products', jobId, '2026-11-21', XSS_REASON, XSS_DATA);
    const context = await newContext({ username: OPERATOR, password: OPERATOR_PASSWORD });
    try {
      const page = await context.newPage();
      const dialogs = watchForDialogs(page);
      await page.goto(`${s.board.url}queue/${queueName('products')}/${jobId}`);
      await expect.poll(() => page.locator('body').innerText(), UI).toContain('<script>window.__xssReason = 1</script>');
      await page.screenshot({ path: path.join(SHOTS, '04-script-in-failure-reason.png') });
      await page.getByRole('tab', { name: 'Data' }).click();
      await expect.poll(() => page.locator('body').innerText(), UI).toContain('onerror="window.__xssData = 1"');
      await page.screenshot({ path: path.join(SHOTS, '05-script-in-job-data.png') });

      const ran = await page.evaluate(() => {
        const w = globalThis as unknown as Record<string, unknown>;
        return [w.__xssReason, w.__xssImg, w.__xssData];
      });
      expect(ran).toEqual([undefined, undefined, undefined]);
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      expect(dialogs).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
