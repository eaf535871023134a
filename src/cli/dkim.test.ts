// `mailcove config dkim gen` on a config directory, run through main(): the key file, the
// domains.conf edit (comments kept), the DNS record, and a signature that verifies with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliConfigDir, runMailcove, type RunResult } from './testrun.ts';
import { loadConfig } from '../config/index.ts';
import { MemoryResolver } from '../dns/index.ts';
import { checkInbound, dkimSign } from '../mailauth/index.ts';

function run(dir: string, ...argv: string[]): Promise<RunResult> {
  return runMailcove(join(dir, 'mailcove.conf'), argv.length, argv); // --config goes last
}

test('config dkim gen writes a 0600 key, adds a signing selector and prints a record that verifies its signatures', async (t) => {
  const dir = await cliConfigDir(t, 'dkim');
  for (const [selector, kind] of [['2026a', 'ed25519'], ['2026b', 'rsa']] as const) {
    const r = await run(dir, 'config', 'dkim', 'gen', '--kind', kind, 'example.com', selector);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${selector}\\._domainkey\\.example\\.com\\. TXT "v=DKIM1; k=${kind}; `, 'm'));
    for (const [, s] of r.stdout.matchAll(/"([^"]*)"/g)) assert.ok(s!.length <= 255, 'TXT strings of at most 255 octets (RFC 1035 §3.3.14)');
    if (kind === 'rsa') assert.match(r.stdout, /" "/); // a 2048-bit key needs two strings
  }
  const keyFile = join(dir, 'dkim', '2026a.example.com.ed25519.privatekey.pkcs8.pem');
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
  const text = await readFile(join(dir, 'domains.conf'), 'utf8');
  assert.match(text, /# main domain/);
  const config = await loadConfig(join(dir, 'mailcove.conf'));
  assert.deepEqual(config.domains.domains['example.com']?.dkim?.sign, ['2026a', '2026b']);
  assert.equal(config.domains.domains['example.com']?.dkim?.selectors['2026a']?.privateKeyFile, 'dkim/2026a.example.com.ed25519.privatekey.pkcs8.pem');
  const again = await run(dir, 'config', 'dkim', 'gen', 'example.com', '2026a');
  assert.equal(again.code, 1);
  assert.equal((await run(dir, 'config', 'dkim', 'gen', 'nope.example', 'x')).code, 1);
  assert.equal((await run(dir, 'config', 'dkim', 'gen', '--kind', 'dsa', 'example.com', 'x')).code, 2);

  const record = /"(v=DKIM1; k=ed25519; [^"]+)"/.exec((await run(dir, 'config', 'dkim', 'gen', '--kind', 'ed25519', 'example.com', '2026c')).stdout)?.[1];
  assert.ok(record);
  const msg = join(dir, 'msg');
  const body = 'From: <mjl@example.com>\r\nSubject: hi\r\n\r\nbody\r\n';
  await writeFile(msg, body);
  const sig = await dkimSign(msg, [{ domain: 'example.com', selector: '2026c', privateKeyPEM: await readFile(join(dir, 'dkim', '2026c.example.com.ed25519.privatekey.pkcs8.pem'), 'utf8'), canonicalization: 'relaxed/relaxed', dontSealHeaders: false }]);
  await writeFile(msg, sig + body);
  const res = await checkInbound({ remoteIP: '192.0.2.1', ehlo: 'x', mailFrom: 'mjl@example.com', messagePath: msg, hostname: 'mx', resolver: new MemoryResolver().addTXT('2026c._domainkey.example.com', record) });
  assert.equal(res.dkim[0]?.result, 'pass');
});
