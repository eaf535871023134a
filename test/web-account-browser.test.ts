// The account page in a real Chromium against a full localserve: the wrong-password message
// and login, logout (the cookie stops working), a session ended server-side (the login
// dialog, then the action completes), TLS public key upload and delete, import with
// progress, export download, and a password change that ends another browser's session.
// Screenshots go to docs/screenshots/account-*.png with MAILCOVE_SCREENSHOTS=1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { publicKeyFingerprint } from '../src/tls/index.ts';
import { opensslSteps } from '../web/account/openssl.ts';
import { chromiumPath, launchBrowser, loginDialog, screenshotPath, newContext, startWebServer, type WebServer } from './browser.ts';

const run = promisify(execFile);
const skip = existsSync(chromiumPath) || process.env['CI'] === 'true' ? false : `not installed: ${chromiumPath}`;

let server: WebServer | undefined;
let browser: Browser | undefined;
let dir = '';
let password = ''; // the account's current password; the password test changes it

before(async () => {
  if (skip) return;
  server = await startWebServer();
  browser = await launchBrowser();
  dir = await mkdtemp(join(tmpdir(), 'mailcove-account-browser-'));
  password = server.account.password;
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A logged-in page in a new browser context; problems collects script errors and CSP violations. */
async function accountPage(o: { login?: boolean } = {}): Promise<{ ctx: BrowserContext; page: Page; problems: string[] }> {
  const ctx = await newContext(browser!);
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Failed loads are judged by their responses below (a 401 after a session ended is expected).
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource:')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && r.status() !== 401 && !r.url().endsWith('/favicon.ico')) problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  page.on('dialog', (d) => void d.accept()); // the confirm() before a removal
  await page.goto(`${server!.http}/`);
  if (o.login !== false) {
    await loginDialog(page, server!.account.address, password);
    await page.locator('#account-name', { hasText: server!.account.name }).waitFor();
  }
  return { ctx, page, problems };
}

/** The session cookie and the CSRF token the page holds. */
async function sessionOf(ctx: BrowserContext, page: Page): Promise<{ cookie: string; csrf: string }> {
  const c = (await ctx.cookies()).find((x) => x.name === 'mailcove-account');
  assert.ok(c, 'no session cookie');
  assert.equal(c.httpOnly, true);
  assert.equal(c.sameSite, 'Strict');
  assert.equal(c.path, '/');
  const csrf = await page.evaluate(() => localStorage.getItem('mailcove-csrf:/') ?? '');
  return { cookie: `${c.name}=${c.value}`, csrf };
}

/** An API call from outside the browser with a session's cookie and token; the HTTP status. */
function apiStatus(method: string, s: { cookie: string; csrf: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${server!.http}/api/${method}`);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { cookie: s.cookie, 'x-mailcove-csrf': s.csrf, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end('{}');
  });
}

/** Polls cond (in node: the page's CSP allows no eval for waitForFunction strings) until it holds. */
async function until(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const domainsConf = () => readFile(join(server!.dir, 'config', 'domains.conf'), 'utf8');

test('login: a wrong password shows the message, the right one shows the account; the Account tab screenshot', { skip }, async () => {
  const { ctx, page, problems } = await accountPage({ login: false });
  await loginDialog(page, server!.account.address, 'not the password');
  await page.locator('dialog#login [role=alert]', { hasText: 'wrong username or password' }).waitFor();
  await loginDialog(page, server!.account.address, password);
  await page.locator('#account-name', { hasText: server!.account.name }).waitFor();
  await page.locator(`#addresses li[data-address="${server!.account.address}"]`).waitFor();
  await page.locator('#quota').waitFor();
  await page.fill('#full-name', 'Mail Cove');
  await page.click('#save-full-name');
  await page.locator('.status.ok', { hasText: 'Full name saved.' }).waitFor();
  assert.match(await domainsConf(), /fullName: Mail Cove/);
  await page.click('#generate-password'); // shows what a generated password looks like
  assert.match((await page.getAttribute('#generated-password-value', 'data-password')) ?? '', /^[a-km-zA-HJ-NP-Z2-9]{5}(-[a-km-zA-HJ-NP-Z2-9]{5}){3}$/);
  await page.screenshot({ path: await screenshotPath('account-account.png') });
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('logout: the login dialog comes back and the old cookie no longer works', { skip }, async () => {
  const { ctx, page, problems } = await accountPage();
  const session = await sessionOf(ctx, page);
  assert.equal(await apiStatus('account', session), 200);
  await page.click('header button:has-text("Log out")');
  await page.locator('dialog#login').waitFor({ state: 'visible' });
  assert.equal(await apiStatus('account', session), 401);
  assert.equal((await ctx.cookies()).find((c) => c.name === 'mailcove-account'), undefined);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a session ended server-side: the next action asks to log in, then completes', { skip }, async () => {
  const { ctx, page, problems } = await accountPage();
  const session = await sessionOf(ctx, page);
  assert.equal(await apiStatus('logout', session), 200); // as when the session expires: the page does not know
  await page.fill('#full-name', 'After Expiry');
  await page.click('#save-full-name');
  await loginDialog(page, server!.account.address, password);
  await page.locator('.status.ok', { hasText: 'Full name saved.' }).waitFor();
  assert.match(await domainsConf(), /fullName: After Expiry/);
  assert.notEqual((await sessionOf(ctx, page)).cookie, session.cookie);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('TLS public key: upload a certificate file made with the shown openssl commands, then delete it', { skip }, async () => {
  const keyDir = join(dir, 'tlskey');
  await mkdir(keyDir);
  const steps = opensslSteps(server!.account.address);
  for (const cmd of [steps[0]!.commands[0]!, ...steps[1]!.commands]) await run('sh', ['-c', cmd], { cwd: keyDir });
  const certPath = join(keyDir, 'cert.pem');
  const fingerprint = publicKeyFingerprint(new X509Certificate(await readFile(certPath)));

  const { ctx, page, problems } = await accountPage();
  await page.click('nav a[href="#tlskeys"]');
  await page.locator('#openssl-help pre', { hasText: 'openssl genpkey -algorithm ed25519' }).first().waitFor();
  await page.setInputFiles('#tls-key-form input[name=certificateFile]', certPath);
  await until(async () => (await page.inputValue('#tls-key-form textarea[name=certificate]')).includes('BEGIN CERTIFICATE')); // read by the page's FileReader
  await page.fill('#tls-key-form input[name=name]', 'browser key');
  await page.check('#tls-key-form input[name=noIMAPPreauth]');
  await page.click('#add-tls-key');
  const row = page.locator(`#tls-keys tr[data-fingerprint="${fingerprint}"]`);
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /browser key.*mailcove@localhost.*ed25519/);
  await page.screenshot({ path: await screenshotPath('account-tlskeys.png'), fullPage: true });
  await row.locator('button', { hasText: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
  await page.locator('.status.ok', { hasText: 'Key "browser key" deleted.' }).waitFor();
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('import with progress (and a per-file error), then export download of the imported mailbox; the Import/Export screenshot', { skip }, async () => {
  const n = 600; // long enough to see the progress bar move
  const mbox = Array.from({ length: n }, (_, i) => `From a@example.com Mon Jan  1 00:00:00 2024\nSubject: bulk ${i}\n\nmessage ${i}\n`).join('\n');
  const archivePath = join(dir, 'mail.zip');
  await writeFile(archivePath, zipSync({ 'Bulk.mbox': Buffer.from(mbox), 'Work/cur/1700000000.1.host:2,S': Buffer.from('Subject: one\r\n\r\nhi\r\n'), 'notes.mbox': Buffer.from('not mail\n') }));

  const { page, ctx, problems } = await accountPage();
  await page.click('nav a[href="#importexport"]');
  await page.setInputFiles('#import-file', archivePath);
  await page.click('#import-start');
  await page.locator('#import-progress[data-state=importing]').waitFor();
  await until(async () => (await page.locator('#import-bar').evaluate((el) => (el as unknown as { value: number }).value).catch(() => 0)) > 0); // moved by progress events
  await page.locator('#import-result[data-state=done]').waitFor({ timeout: 60_000 });
  await page.locator('#import-progress').waitFor({ state: 'hidden' });
  assert.equal(await page.getAttribute('#import-summary', 'data-imported'), String(n + 1));
  assert.match((await page.textContent('#import-errors')) ?? '', /notes\.mbox/);
  await page.screenshot({ path: await screenshotPath('account-importexport.png'), fullPage: true });

  // The export form lists the new mailboxes; the export works from it.
  await page.locator('#export-form select[name=mailbox] option[value=Bulk]').waitFor({ state: 'attached' });
  await page.selectOption('#export-form select[name=mailbox]', 'Bulk');
  await page.selectOption('#export-form select[name=format]', 'mbox');
  await page.selectOption('#export-form select[name=archive]', 'zip');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-download')]);
  assert.match(download.suggestedFilename(), /^mailcove-Bulk-\d{4}-\d\d-\d\d\.zip$/);
  const zipPath = join(dir, 'export.zip');
  await download.saveAs(zipPath);
  assert.match((await run('python3', ['-m', 'zipfile', '-l', zipPath])).stdout, /Bulk\.mbox/);
  await run('python3', ['-m', 'zipfile', '-t', zipPath]);
  await page.reload();
  await page.locator('#import-summary', { hasText: `Your last import: ${n + 1} messages imported` }).waitFor(); // after a reload, from importStatus
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('changing the password (a generated one) ends the session of another browser, which then logs in with the new one', { skip }, async () => {
  const a = await accountPage();
  const b = await accountPage();
  await a.page.click('#generate-password');
  const generated = (await a.page.getAttribute('#generated-password-value', 'data-password'))!;
  await a.page.fill('#password-form input[name=current]', password);
  await a.page.click('#change-password');
  await a.page.locator('.status.ok', { hasText: /Password changed\. \d+ other web sessions? ended\./ }).waitFor();
  password = generated;

  await b.page.click('nav a[href="#logins"]'); // the call fails: the login dialog
  await loginDialog(b.page, server!.account.address, password);
  await b.page.locator('#login-history tr[data-protocol=web-account][data-result=ok]').first().waitFor();
  await a.page.click('nav a[href="#logins"]'); // still logged in
  await a.page.locator('#login-history tr[data-result=badauth]').first().waitFor(); // the wrong password of the first test
  assert.equal(await a.page.locator('dialog#login').count(), 0);
  assert.deepEqual([...a.problems, ...b.problems], []);
  await a.ctx.close();
  await b.ctx.close();
});
