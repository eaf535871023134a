// Issue 7's acceptance shape for DNS records: the records `mailcove config dnsrecords`
// prints, loaded as they are into an nsd zone behind unbound, pass `mailcove config
// dnscheck` through the resolver of mailcove.conf; a stale record then fails it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../src/config/index.ts';
import { parseCommandArgs, type Command } from '../src/cli/command.ts';
import { dnsCommands } from '../src/cli/dnsrecords.ts';
import { recordsFixture, type RecordsFixture } from '../src/dnsrecords/testfixture.ts';
import { missingDnsPeers as missing, startDnsServers, type DnsServers } from './dnsservers.ts';

const skip = missing.length > 0 && process.env['CI'] !== 'true' ? `DNS test peers missing (${missing.join(', ')})` : false;

const commands = dnsCommands({
  options: { config: { type: 'string', valueName: 'PATH', description: 'mailcove.conf' } },
  load: (o) => loadConfig(String(o['config'])),
});

async function run(name: string, argv: string[]): Promise<{ code: number; stdout: string }> {
  const c = commands.find((x: Command) => x.name === name)!;
  const out = new PassThrough();
  let stdout = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  const { args, options } = parseCommandArgs(c, argv);
  const code = (await c.run({ args, options, stdout: out, stderr: process.stderr, stdin: process.stdin })) ?? 0;
  return { code, stdout };
}

let f: RecordsFixture | undefined;
let servers: DnsServers | undefined;
let printed = '';

before(async () => {
  if (skip) return;
  f = await recordsFixture();
  printed = (await run('config dnsrecords', ['--config', f.staticPath, 'example.mcove'])).stdout;
  servers = await startDnsServers([{ name: 'example.mcove', records: printed.split('\n') }]); // the output as it is: comments and all
  const unbound = servers.resolver.servers[0]!;
  await appendFile(f.staticPath, `resolver: ['${unbound.host}:${unbound.port}']\n`);
});

after(async () => {
  await servers?.stop();
  await f?.cleanup();
});

test('the printed records, loaded into a zone, pass config dnscheck: every record correct, exit code 0', { skip }, async () => {
  assert.match(printed, /^; DNS records for example\.mcove, mail host mail\.example\.mcove$/m);
  const r = await run('config dnscheck', ['--config', f!.staticPath, 'example.mcove']);
  const lines = r.stdout.trim().split('\n');
  const records = printed.split('\n').filter((l) => l !== '' && !l.startsWith(';')).length;
  assert.equal(lines.length, records + 1, r.stdout);
  for (const l of lines.slice(0, -1)) assert.match(l, /^correct /);
  assert.equal(lines.at(-1), `all ${records} records correct`);
  assert.match(r.stdout, /^correct _25\._tcp\.mail\.example\.mcove\. TLSA$/m);
  assert.equal(r.code, 0);
});

test('after the MTA-STS policy id changes in domains.conf, dnscheck says the DNS record is wrong, with the expected value, exit code 1', { skip }, async () => {
  const domainsPath = f!.staticPath.replace(/mailcove\.conf$/, 'domains.conf');
  await writeFile(domainsPath, (await readFile(domainsPath, 'utf8')).replace('policyID: 20260101T000000', 'policyID: 20260202T000000'));
  const r = await run('config dnscheck', ['--config', f!.staticPath, 'example.mcove']);
  assert.match(r.stdout, /^wrong {3}_mta-sts\.example\.mcove\. TXT: id=20260101T000000 instead of id=20260202T000000; expected TXT "v=STSv1; id=20260202T000000"; found: "v=STSv1; id=20260101T000000"$/m);
  assert.match(r.stdout, /1 of \d+ records not correct\n$/);
  assert.equal(r.code, 1);
});
