// The admin page in a real Chromium against a full localserve: the wrong-password message
// and login, adding a domain and an account, the DNS records and the DNS check against
// nsd + unbound on loopback, editing an alias; a message held by a hold rule released from
// the queue page; every tab rendering. Screenshots go to docs/screenshots/ with MAILCOVE_SCREENSHOTS=1.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import nodemailer from 'nodemailer';
import type { Browser, Page } from 'playwright-core';
import { chromiumPath, launchBrowser, loginDialog, screenshotPath, newContext, startWebServer, type WebServer } from './browser.ts';
import { missingDnsPeers, startDnsServers, type DnsServers } from './dnsservers.ts';

const missing = [...(existsSync(chromiumPath) ? [] : [chromiumPath]), ...missingDnsPeers];
const skip = missing.length && process.env['CI'] !== 'true' ? `not installed: ${missing.join(', ')}` : false;

const domain = 'shop.mcove';

let dns: DnsServers | undefined;
let server: WebServer | undefined;
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  // The zone as an operator half-way through: the MX right, SPF wrong, DMARC not there yet.
  dns = await startDnsServers([{ name: domain, records: ['@ IN MX 10 localhost.', '@ IN TXT "v=spf1 -all"'] }]);
  const unbound = dns.resolver.servers[0]!;
  server = await startWebServer({ resolver: `${unbound.host}:${unbound.port}` });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await dns?.stop();
});

/** A page that fails the test on script errors and CSP violations (reported as console errors). */
async function adminPage(): Promise<{ page: Page; problems: string[] }> {
  const ctx = await newContext(browser!);
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // HTTP errors are logged too (the 401 before login, the 404 of /favicon.ico): they are not the page's fault.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('dialog', (d) => void d.accept()); // the confirm() before removals
  return { page, problems };
}

const domainsConf = () => readFile(join(server!.dir, 'config', 'domains.conf'), 'utf8');

test('admin page: wrong password message, login, add a domain, DNS records and DNS check, add an account, edit an alias', { skip }, async () => {
  const { page, problems } = await adminPage();
  await page.goto(`${server!.http}/admin/`);

  await loginDialog(page, undefined, 'not the password');
  await page.locator('dialog#login [role=alert]', { hasText: 'wrong username or password' }).waitFor();
  await loginDialog(page, undefined, server!.adminPassword);
  await page.locator('header .who', { hasText: 'admin · localhost' }).waitFor();
  await page.locator('#server-info [data-field=version]').waitFor();
  assert.equal(await page.locator('[data-count=domains] .n').textContent(), '1');

  // A domain: added from the list, then its page.
  await page.click('nav a[href="#domains"]');
  await page.fill('#domain-add input[name=name]', domain);
  await page.click('#domain-add button[type=submit]');
  await page.waitForURL(new RegExp(`#domains/${domain.replace('.', '\\.')}$`));
  const zone = page.locator('#dns-zone');
  await zone.waitFor();
  const zoneText = (await zone.textContent()) ?? '';
  assert.match(zoneText, /^shop\.mcove\. IN MX 10 localhost\.$/m);
  assert.match(zoneText, /^_dmarc\.shop\.mcove\. IN TXT "v=DMARC1; p=reject"$/m);
  assert.match(await domainsConf(), /^ {2}shop\.mcove: \{\}$/m);

  // The DNS check against unbound: MX correct, SPF wrong (with what is expected), DMARC missing.
  await page.click('#dns-check-button');
  const row = (name: string, type: string) => page.locator(`#dns-check tr[data-record="${name} ${type}"]`);
  await row(domain, 'MX').waitFor();
  assert.equal(await row(domain, 'MX').getAttribute('data-status'), 'correct');
  assert.equal(await row(domain, 'TXT').getAttribute('data-status'), 'wrong');
  assert.match((await row(domain, 'TXT').textContent()) ?? '', /v=spf1 mx ~all.*v=spf1 -all/s); // expected, then found
  assert.equal(await row(`_dmarc.${domain}`, 'TXT').getAttribute('data-status'), 'missing');
  assert.equal(await row(domain, 'MX').locator('.badge').textContent(), 'correct');
  await page.locator('#dns-check .check-summary.bad').waitFor();
  await page.screenshot({ path: await screenshotPath('admin-domain.png'), fullPage: true });

  // An account at the new domain, with a generated password.
  await page.click('nav a[href="#accounts"]');
  await page.fill('#account-add input[name=name]', 'shopper');
  await page.fill('#account-add input[name=address]', `shopper@${domain}`);
  await page.fill('#account-add input[name=fullName]', 'Shop Keeper');
  await page.click('#account-add [data-action=generate-password]');
  assert.equal((await page.inputValue('#account-add input[name=password]')).length, 18);
  await page.click('#account-add button[type=submit]');
  await page.waitForURL(/#accounts\/shopper$/);
  await page.locator(`#address-list tr[data-address="shopper@${domain}"]`).waitFor();
  assert.equal(await page.locator('#account-info [data-field=password]').textContent(), 'set');
  await page.fill('#address-add input[name=address]', 'sales');
  await page.click('#address-add button[type=submit]');
  await page.locator(`#address-list tr[data-address="sales@${domain}"]`).waitFor();
  await page.click('a.back');
  await page.locator('#account-list tr[data-account=shopper]').waitFor();
  assert.match(await domainsConf(), /shopper:\n\s+domain: shop\.mcove\n\s+fullName: Shop Keeper\n\s+destinations:\n\s+shopper@shop\.mcove: \{\}\n\s+sales@shop\.mcove: \{\}/);
  await page.screenshot({ path: await screenshotPath('admin-accounts.png') });

  // An alias: added with one member, then edited on its page.
  await page.click('nav a[href="#aliases"]');
  await page.fill('#alias-add input[name=address]', `team@${domain}`);
  await page.fill('#alias-add input[name=members]', `shopper@${domain}`);
  await page.check('#alias-add input[name=listMembers]');
  await page.click('#alias-add button[type=submit]');
  await page.click(`#alias-list tr[data-alias="team@${domain}"] a`);
  await page.waitForURL(/#aliases\/team(@|%40)shop\.mcove$/);
  await page.fill('#member-add input[name=members]', server!.account.address);
  await page.click('#member-add button[type=submit]');
  await page.locator(`#member-list tr[data-member="${server!.account.address}"]`).waitFor();
  await page.click(`#member-list tr[data-member="shopper@${domain}"] button`);
  await page.locator(`#member-list tr[data-member="shopper@${domain}"]`).waitFor({ state: 'detached' });
  assert.deepEqual(await page.locator('#member-list tr[data-member]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-member'))), [server!.account.address]);
  assert.match(await domainsConf(), /team@shop\.mcove:\n\s+members:\n\s+- mailcove@localhost\n\s+listMembers: true/);

  // The DKIM key made on the domain page is in the records at once.
  await page.click('nav a[href="#domains"]');
  await page.click(`#domain-list tr[data-domain="${domain}"] a`);
  await page.fill('#dkim-generate input[name=selector]', 'k1');
  await page.selectOption('#dkim-generate select[name=kind]', 'ed25519');
  await page.click('#dkim-generate button[type=submit]');
  await page.locator('#dkim-selectors tr[data-selector=k1] .badge', { hasText: 'signing' }).waitFor();
  await page.locator('#dns-zone', { hasText: `k1._domainkey.${domain}. IN TXT "v=DKIM1; k=ed25519; p=` }).waitFor();

  assert.deepEqual(problems, []);
});

test('admin page: a hold rule holds a submitted message; released from the queue page it is delivered and retired; every tab renders', { skip }, async () => {
  const { page, problems } = await adminPage();
  await page.goto(`${server!.http}/admin/#holdrules`);
  await loginDialog(page, undefined, server!.adminPassword);
  await page.fill('#holdrule-add input[name=recipientDomain]', 'remote.example');
  await page.click('#holdrule-add button[type=submit]');
  await page.locator('#holdrule-list tr[data-rule]', { hasText: 'remote.example' }).waitFor();

  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server!.basePort + 587, secure: false, tls: { rejectUnauthorized: false }, auth: { user: server!.account.address, pass: server!.account.password } });
  await transport.sendMail({ from: server!.account.address, to: 'friend@remote.example', subject: 'held for the admin', text: 'hello' });
  transport.close();

  await page.click('nav a[href="#queue"]');
  const entry = page.locator('#queue-table tr[data-entry]', { hasText: 'friend@remote.example' });
  for (let i = 0; !(await entry.count()) && i < 50; i++) { // the queue holds it on its next look at the queue
    await page.waitForTimeout(100);
    await page.click('nav a[href="#retired"]');
    await page.click('nav a[href="#queue"]');
  }
  await entry.waitFor();
  await page.locator('#queue-table tr[data-held=true] .badge.held').waitFor();
  await entry.locator('button', { hasText: 'History' }).click();
  await page.locator('#queue-table tr.history').waitFor();
  await page.screenshot({ path: await screenshotPath('admin-queue.png') });
  await entry.locator('button', { hasText: 'Release' }).click();
  await page.locator('.status.ok', { hasText: 'Released: 1 of 1 entry' }).waitFor();

  await page.click('nav a[href="#retired"]');
  const retired = page.locator('#retired-table tr[data-success=true]', { hasText: 'friend@remote.example' });
  for (let i = 0; !(await retired.count()) && i < 50; i++) {
    await page.waitForTimeout(100);
    await page.click('#retired-filter button[type=submit]');
  }
  await retired.waitFor();

  // Text from the server is text: a suppression reason with markup shows as typed and runs nothing.
  const markup = '<img src=x onerror="document.title=\'pwned\'"><b>bold</b>';
  await page.click('nav a[href="#suppressions"]');
  await page.fill('#suppression-add input[name=address]', 'victim@remote.example');
  await page.fill('#suppression-add input[name=reason]', markup);
  await page.click('#suppression-add button[type=submit]');
  const suppressed = page.locator('#suppression-list tr[data-address="victim@remote.example"]');
  await suppressed.waitFor();
  assert.ok(((await suppressed.textContent()) ?? '').includes(markup));
  assert.equal(await suppressed.locator('img, b').count(), 0);
  assert.notEqual(await page.title(), 'pwned');
  await suppressed.locator('button', { hasText: 'Remove' }).click();
  await suppressed.waitFor({ state: 'detached' });

  // A malformed fragment (a bad %-escape) falls back to the first tab instead of a script error.
  await page.evaluate("location.hash = '#%E0%A4%A'");
  await page.locator('div.tab[data-tab=overview] section').first().waitFor();

  for (const tab of ['overview', 'domains', 'accounts', 'aliases', 'queue', 'retired', 'holdrules', 'suppressions', 'logins', 'loglevels']) {
    await page.click(`nav a[href="#${tab}"]`);
    await page.locator(`div.tab[data-tab=${tab}] section`).first().waitFor();
    assert.equal(await page.locator('.status.error').count(), 0, tab);
  }
  await page.click('nav a[href="#logins"]');
  await page.locator('#login-list tr[data-result=ok]', { hasText: 'web-admin' }).first().waitFor();
  await page.click('nav a[href="#loglevels"]');
  await page.selectOption('#loglevel-list tr[data-module=""] select', 'debug');
  await page.locator('.status.ok', { hasText: 'Log level of all modules set to debug' }).waitFor();
  await page.selectOption('#loglevel-list tr[data-module=""] select', 'info');
  await page.locator('.status.ok', { hasText: 'set to info' }).waitFor();
  assert.deepEqual(problems, []);
});
