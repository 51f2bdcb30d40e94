/**
 * Debian's Chromium driven by puppeteer-core (which never downloads a browser): headless, --no-sandbox when root.
 * Shared by the vitest browser test and the interop console scenarios.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { PageDocument } from './page-dom.js';
// Runs inside the page (puppeteer callbacks); see page-dom.ts.
declare const document: PageDocument;


export const CHROMIUM = process.env.CYGNET_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS_DIR = process.env.CYGNET_CONSOLE_SHOTS ?? '/tmp/cygnet-console-shots';

/** Why browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium; the interop suite installs it)`;
  return undefined;
}

export async function launch(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--window-size=1280,900'],
    defaultViewport: { width: 1280, height: 900 },
  });
}

export interface WatchedPage {
  readonly page: Page;
  /** Console errors and CSP violations the page reported. */
  readonly problems: string[];
  shot(name: string): Promise<string>;
}

/** A page that records its errors, and a screenshot helper writing DIR/NN-name.png (DIR emptied first). */
export async function openPage(browser: Browser, url: string, shotsDir: string): Promise<WatchedPage> {
  await rm(shotsDir, { recursive: true, force: true });
  await mkdir(shotsDir, { recursive: true });
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    // A failed login answers 401: the browser logs that as a resource error, which is the expected outcome.
    if (m.type() === 'error' && !/status of 40[13]|status of 429/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  let n = 0;
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return {
    page,
    problems,
    shot: async (name: string) => {
      const file = join(shotsDir, `${String(++n).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file as `${string}.png`, fullPage: true });
      return file;
    },
  };
}

/** Log in through the form; waits for the navigation bar (success) or the error line. */
export async function login(page: Page, user: string, password: string): Promise<string | undefined> {
  await page.waitForSelector('#login-user');
  await page.$eval('#login-user', (el) => {
    (el as unknown as { value: string }).value = '';
  });
  await page.type('#login-user', user);
  await page.type('#login-password', password);
  await page.click('form.login button[type=submit]');
  await page.waitForFunction(() => !document.getElementById('nav')?.hidden || (document.getElementById('login-error')?.textContent ?? '') !== '', { timeout: 10_000 });
  const err = await page.$eval('#main', (m) => m.querySelector('#login-error')?.textContent ?? '').catch(() => '');
  return err === '' ? undefined : err;
}

/** Go to a page of the console through its navigation bar (keyboard-reachable links). */
export async function navigate(page: Page, label: string): Promise<void> {
  const links = await page.$$('#nav a');
  for (const l of links) {
    if ((await l.evaluate((e) => e.textContent)) === label) {
      await l.click();
      await page.waitForFunction((t) => document.querySelector('main h1')?.textContent === t, { timeout: 10_000 }, label === 'Live SAs' ? 'Live SAs' : label);
      return;
    }
  }
  throw new Error(`no navigation link '${label}'`);
}
