// Browser tests: a real Chromium (Debian's /usr/bin/chromium) driven by playwright-core,
// headless, without sandbox (tests run as root in CI), with background networking off and
// every host name except loopback unresolvable, so a page can reach nothing but our server.
// startWebServer runs a complete localserve in-process (both web surfaces, SMTP, IMAP, the
// queue) on free loopback ports with a temp folder.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { localserve, localserveAccount, localservePorts } from '../src/cli/localserve.ts';
import { freeBasePort } from './ports.ts';

export const chromiumPath = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Where a test's screenshot goes: docs/screenshots/NAME when MAILCOVE_SCREENSHOTS=1 (to
 * renew the committed ones), else a temp folder, so a test run leaves the checkout as it was.
 */
export async function screenshotPath(name: string): Promise<string> {
  const dir = process.env['MAILCOVE_SCREENSHOTS'] === '1' ? fileURLToPath(new URL('../docs/screenshots/', import.meta.url)) : join(tmpdir(), `mailcove-screenshots-${process.pid}`);
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-domain-reliability',
      '--disable-client-side-phishing-detection',
      '--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,CertificateTransparencyComponentUpdater',
      '--no-first-run',
      '--no-pings',
      '--metrics-recording-only',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1', // no DNS: nothing but loopback is reachable
    ],
  });
}

/** A fresh browser context (own cookies and storage) with the self-signed certificate accepted, 1280×900. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 }, acceptDownloads: true });
}

export interface WebServer {
  dir: string;
  /** http://127.0.0.1:<base+80> */
  http: string;
  /** https://127.0.0.1:<base+443> */
  https: string;
  basePort: number;
  account: typeof localserveAccount;
  adminPassword: string;
  /** Everything localserve printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** localserve in this process; resolver: ip:port of a test DNS server (e.g. unbound from test/dnsservers.ts). */
export async function startWebServer(o: { resolver?: string } = {}): Promise<WebServer> {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-web-'));
  const basePort = await freeBasePort(Object.values(localservePorts));
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  let stopNow!: () => void;
  const until = new Promise<void>((res) => (stopNow = res));
  const running = localserve({ dir, ip: '127.0.0.1', basePort, resolver: o.resolver, out, until });
  const ready = new Promise<void>((res, rej) => {
    const check = () => (text.includes('ready;') ? res() : undefined);
    out.on('data', check);
    running.catch(rej);
  });
  await ready;
  return {
    dir,
    http: `http://127.0.0.1:${basePort + localservePorts.http}`,
    https: `https://127.0.0.1:${basePort + localservePorts.https}`,
    basePort,
    account: localserveAccount,
    adminPassword: localserveAccount.password,
    output: () => text,
    stop: async () => {
      stopNow();
      await running;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Logs in through the page's login dialog. */
export async function loginDialog(page: Page, username: string | undefined, password: string): Promise<void> {
  const dialog = page.locator('dialog#login');
  await dialog.waitFor({ state: 'visible' });
  if (username !== undefined) await dialog.locator('input[name=username]').fill(username);
  await dialog.locator('input[name=password]').fill(password);
  await dialog.locator('button[type=submit]').click();
}
