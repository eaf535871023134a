// The server as serve and localserve start it (src/cli/server.ts): every service from one
// config on loopback ports, domains.conf live (an account's quotaBytes reaches the store at
// start and after an edit), and close() stopping everything so the store can be reopened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, setAccountSettings } from '../src/config/index.ts';
import { openStore } from '../src/store/index.ts';
import { startServer } from '../src/cli/server.ts';
import { resolverFromConfig } from '../src/dns/index.ts';
import { waitFor } from './waitfor.ts';
import { freeBasePort } from './ports.ts';

const staticText = (base: number) => `dataDir: data
hostname: mail.example.com
listeners:
  local:
    ips: [127.0.0.1]
    tls: { selfSigned: true }
    smtp: { port: ${base + 25} }
    imap: { port: ${base + 143} }
    accountHTTP: { port: ${base + 80} }
    adminHTTP: { port: ${base + 80}, path: /admin/ }
`;
const domainsText = `domains:
  example.com: {}
accounts:
  mjl:
    domain: example.com
    quotaBytes: 1000000
    destinations:
      mjl@example.com: {}
`;

test('startServer: SMTP, IMAP and the web pages from one config; quotaBytes of domains.conf reaches the store at start and after an edit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-server-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'mailcove.conf'), staticText(await freeBasePort([25, 143, 80])));
  await writeFile(join(dir, 'domains.conf'), domainsText);
  const config = await loadConfig(join(dir, 'mailcove.conf'));
  const pre = await openStore(config.paths.dataDir);
  await pre.createAccount('mjl');
  await pre.close();
  const server = await startServer({ config, resolver: resolverFromConfig({ servers: 'none' }) });
  try {
    assert.ok(server.smtp.addresses.some((a) => a.service === 'smtp' && a.port > 0));
    assert.ok(server.imap.addresses.some((a) => a.service === 'imap' && a.port > 0));
    assert.ok(server.web.addresses.some((a) => a.surfaces.includes('/') && a.surfaces.includes('/admin/')), JSON.stringify(server.web.addresses));
    const page = await fetch(`${server.web.addresses[0]!.url}/admin/`);
    assert.equal(page.status, 200);
    const quota = async () => {
      const a = await server.store.openAccount('mjl');
      try {
        return (await a.quota()).limit;
      } finally {
        await a.close();
      }
    };
    assert.equal(await quota(), 1000000);
    await setAccountSettings(config, 'mjl', { quotaBytes: 5000 });
    await waitFor('the new quota applied', async () => ((await quota()) === 5000 ? true : undefined));
    await setAccountSettings(config, 'mjl', { quotaBytes: null });
    await waitFor('the quota removed', async () => ((await quota()) === null ? true : undefined));
  } finally {
    await server.close();
  }
  const again = await openStore(config.paths.dataDir); // everything closed: the store opens again
  await again.close();
});
