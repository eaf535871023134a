// Loading and the errors of both config files: each problem names file, line and key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, configFilePath, checkConfig, parseStatic, parseDomains, formatProblem, ConfigError, describeConfig, type ConfigProblem } from './index.ts';
import { configDir, staticText, domainsText } from './testfixture.ts';
import { staticSchema } from './static.ts';
import { domainsSchema } from './domains.ts';

function problemsOf(r: { ok: true } | { ok: false; problems: ConfigProblem[] }): ConfigProblem[] {
  assert.equal(r.ok, false, 'expected the config to be refused');
  return r.ok ? [] : r.problems;
}

/** The one problem whose key is `key`; its line must be `line`. */
function expectProblem(problems: ConfigProblem[], key: string, line: number, message: RegExp): void {
  const p = problems.find((x) => x.key === key);
  assert.ok(p, `no problem at ${key}; got ${problems.map(formatProblem).join(' | ')}`);
  assert.equal(p.line, line, formatProblem(p));
  assert.match(p.message, message);
}

test('a valid config loads with defaults filled in and names normalised', async (t) => {
  const d = await configDir();
  t.after(d.cleanup);
  const c = await loadConfig(d.staticPath);
  assert.equal(c.paths.dataDir, join(d.dir, '..', 'data'));
  assert.equal(c.paths.domains, d.domainsPath);
  assert.equal(configFilePath(c, 'dkim/a.pem'), join(d.dir, 'dkim', 'a.pem'));
  assert.equal(configFilePath(c, '/etc/ssl/a.pem'), '/etc/ssl/a.pem');
  assert.equal(c.static.logLevel, 'info');
  assert.equal(c.static.limits.maxMessageSize, 100 * 1024 * 1024);
  const l = c.static.listeners['public'];
  assert.ok(l);
  assert.deepEqual(l.smtp, { enabled: true, port: 25 });
  assert.deepEqual(l.submission, { enabled: true, port: 1587 });
  assert.equal(l.imap.enabled, false);
  assert.equal(l.metricsHTTP.port, 8010);
  assert.deepEqual(Object.keys(c.domains.domains).sort(), ['bücher.example', 'example.com']);
  const mjl = c.domains.accounts['mjl'];
  assert.ok(mjl);
  // Bare localpart at the account's domain; A-label stored as U-label; localparts lowercased.
  assert.deepEqual(Object.keys(mjl.destinations).sort(), ['info@bücher.example', 'mjl@example.com', 'postmaster@example.com']);
  assert.equal(mjl.destinations['info@bücher.example']?.mailbox, 'Info');
  assert.deepEqual(mjl.destinations['mjl@example.com']?.rulesets, []);
});

test('an unknown key names file, line and key (both files)', () => {
  const s = problemsOf(parseStatic('mailcove.conf', staticText + 'bogusKey: 1\n'));
  expectProblem(s, 'bogusKey', 9, /unknown key/);
  const text = domainsText.replace('    domain: example.com\n', '    domain: example.com\n    quota: 10\n');
  const d = problemsOf(parseDomains('domains.conf', text));
  expectProblem(d, 'accounts.mjl.quota', 10, /unknown key "quota"/);
  assert.equal(formatProblem(d[0]!), 'domains.conf:10: accounts.mjl.quota: unknown key "quota"');
});

test('a wrong type names the line of the value', () => {
  const text = staticText.replace('port: 1587', 'port: "submission"');
  const p = problemsOf(parseStatic('mailcove.conf', text));
  expectProblem(p, 'listeners.public.submission.port', 8, /expected number/);
  const p2 = problemsOf(parseStatic('mailcove.conf', staticText.replace('ips: [127.0.0.1]', 'ips: [127.0.0.1, localhost]')));
  expectProblem(p2, 'listeners.public.ips[1]', 5, /not an IP/);
});

test('a YAML syntax error and a duplicate key give their line', () => {
  const p = problemsOf(parseDomains('domains.conf', 'domains:\n  example.com: {\naccounts: x\n'));
  assert.ok(p.length >= 1);
  assert.ok(p.every((x) => x.file === 'domains.conf' && typeof x.line === 'number'), p.map(formatProblem).join('\n'));
  const dup = problemsOf(parseStatic('mailcove.conf', staticText + 'hostname: other.example.com\n'));
  assert.equal(dup[0]?.line, 9, formatProblem(dup[0]!));
  assert.match(dup[0]!.message, /unique/i);
  // "__proto__" would silently vanish from the parsed object; it is refused instead.
  const proto = problemsOf(parseDomains('domains.conf', domainsText.replace('  mjl:', '  __proto__:')));
  assert.equal(proto[0]?.line, 8);
  assert.match(proto[0]!.message, /__proto__/);
});

test('a reference to a missing domain or account is an error at its line', () => {
  const p = problemsOf(parseDomains('domains.conf', domainsText.replace('    domain: example.com', '    domain: exampel.com')));
  expectProblem(p, 'accounts.mjl.domain', 9, /domain "exampel.com" not configured/);
  const withDmarc = domainsText.replace('  example.com: {}  # the main domain', '  example.com:\n    dmarc:\n      localpart: dmarc\n      account: nobody\n      mailbox: DMARC');
  expectProblem(problemsOf(parseDomains('domains.conf', withDmarc)), 'domains.example.com.dmarc.account', 6, /account "nobody" not configured/);
  const otherDomain = domainsText.replace('      mjl@example.com: {}', '      mjl@example.org: {}');
  expectProblem(problemsOf(parseDomains('domains.conf', otherDomain)), 'accounts.mjl.destinations.mjl@example.org', 11, /"example.org" not configured/);
});

test('an address is used once across accounts and aliases, compared case-insensitively', () => {
  const twice = domainsText + '  other:\n    domain: example.com\n    destinations:\n      MJL@Example.com: {}\n';
  expectProblem(problemsOf(parseDomains('domains.conf', twice)), 'accounts.other.destinations.MJL@Example.com', 18, /"mjl@example.com" already used by account "mjl"/);
  const alias = domainsText + 'aliases:\n  postmaster@example.com:\n    members: [mjl@example.com]\n';
  expectProblem(problemsOf(parseDomains('domains.conf', alias)), 'aliases.postmaster@example.com', 16, /already used/);
  // Case-sensitive domains keep case apart.
  const cs = domainsText.replace('  example.com: {}  # the main domain', '  example.com: {localpartCaseSensitive: true}') + '  other:\n    domain: example.com\n    destinations:\n      MJL@example.com: {}\n';
  assert.equal(parseDomains('domains.conf', cs).ok, true);
});

test('DKIM sign must name a configured selector', () => {
  const text = domainsText.replace(
    '  example.com: {}  # the main domain',
    '  example.com:\n    dkim:\n      selectors:\n        s1:\n          privateKeyFile: dkim/s1.pem\n      sign: [s1, s2]',
  );
  const p = problemsOf(parseDomains('domains.conf', text));
  expectProblem(p, 'domains.example.com.dkim.sign[1]', 8, /selector "s2" not configured/);
  assert.equal(p.length, 1);
  assert.equal(parseDomains('domains.conf', text.replace('[s1, s2]', '[s1]')).ok, true);
});

test('alias members must be addresses of accounts', () => {
  const text = domainsText + 'aliases:\n  team@example.com:\n    members:\n      - mjl@example.com\n      - someone@example.net\n';
  const p = problemsOf(parseDomains('domains.conf', text));
  expectProblem(p, 'aliases.team@example.com.members[1]', 19, /someone@example.net/);
  const ok = parseDomains('domains.conf', text.replace('      - someone@example.net\n', '      - Postmaster@example.com\n'));
  assert.ok(ok.ok);
  assert.deepEqual(ok.value.aliases['team@example.com']?.members, ['mjl@example.com', 'postmaster@example.com']);
});

test('invalid names: domains, localparts, account names', () => {
  const text = domainsText.replace('  example.com: {}  # the main domain', '  example.com: {}\n  bad_domain.com: {}').replace('      Postmaster: {}   # bare localpart: at example.com', '      "a..b": {}');
  const p = problemsOf(parseDomains('domains.conf', text));
  expectProblem(p, 'domains.bad_domain.com', 4, /invalid domain/);
  expectProblem(p, 'accounts.mjl.destinations.a..b', 13, /invalid localpart/);
  const badName = problemsOf(parseDomains('domains.conf', domainsText.replace('  mjl:', '  "../x":')));
  expectProblem(badName, 'accounts.../x', 8, /invalid name: account names are/);
});

test('static references: TLS services need tls, ACME provider exists, ports do not clash', () => {
  const text = staticText + '    imaps: {}\n    imap:\n      port: 25\n    adminHTTP: {}\n    webmailHTTP: {}\n';
  const p = problemsOf(parseStatic('mailcove.conf', text));
  expectProblem(p, 'listeners.public.imaps', 9, /needs tls/);
  expectProblem(p, 'listeners.public.imap.port', 11, /port 25 already used by smtp/);
  assert.equal(p.length, 2, 'web services share a port: ' + p.map(formatProblem).join(' | '));
  const acme = staticText + '    tls:\n      acme: letsencrypt\n';
  expectProblem(problemsOf(parseStatic('mailcove.conf', acme)), 'listeners.public.tls.acme', 10, /ACME provider "letsencrypt" not configured/);
  const both = staticText + '    tls:\n      selfSigned: true\n      acme: x\n';
  expectProblem(problemsOf(parseStatic('mailcove.conf', both)), 'listeners.public.tls', 9, /exactly one/);
  const resolver = staticText + 'resolver: [127.0.0.1]\n';
  expectProblem(problemsOf(parseStatic('mailcove.conf', resolver)), 'resolver[0]', 9, /ip:port/);
});

test('checkConfig reports problems of both files at once; loadConfig throws them', async (t) => {
  const d = await configDir({ static: staticText + 'extra: 1\n', domains: domainsText.replace('domain: example.com', 'domain: nowhere.example') });
  t.after(d.cleanup);
  const problems = await checkConfig(d.staticPath);
  assert.deepEqual(problems.map((p) => [p.file, p.line, p.key]), [
    [d.staticPath, 9, 'extra'],
    [d.domainsPath, 9, 'accounts.mjl.domain'],
  ]);
  await assert.rejects(loadConfig(d.staticPath), (e: unknown) => e instanceof ConfigError && e.problems.length === 2 && e.message.includes(`${d.domainsPath}:9: accounts.mjl.domain:`));
  const missing = await checkConfig(join(d.dir, 'nope', 'mailcove.conf'));
  assert.equal(missing.length, 2);
  assert.ok(missing.every((p) => p.line === undefined && /not found/.test(p.message)));
});

test('describeConfig is YAML that shows every field of both schemas with its text', () => {
  const text = describeConfig();
  const [st, dom] = text.split(/\n(?=# domains\.conf)/);
  const s = parse(st ?? '') as Record<string, unknown>;
  const d = parse(dom ?? '') as Record<string, unknown>;
  assert.deepEqual(Object.keys(s), Object.keys(staticSchema.shape));
  assert.deepEqual(Object.keys(d), Object.keys(domainsSchema.shape));
  assert.match(text, /# Fully qualified host name/);
  assert.match(text, /^ {4}smtp:$/m);
  assert.match(text, /# \(default: 25\)\n\s+port: 25/);
  // The example domains section is itself a valid domains.conf apart from placeholder strings.
  const r = parseDomains('described', dom ?? '');
  assert.ok(!r.ok && r.problems.every((p) => p.line !== undefined));
});

test('outbound: routes name configured transports; a transport is one of smarthost, socks, direct', () => {
  const ok = staticText + 'transports:\n  relay:\n    smarthost: { host: smtp.example.net, username: u, passwordFile: relay.pass }\nroutes:\n  - { toDomain: [example.org], minimumAttempts: 2, transport: relay }\n';
  const r = parseStatic('mailcove.conf', ok);
  assert.ok(r.ok, r.ok ? '' : r.problems.map(formatProblem).join(' | '));
  assert.equal(r.value.queue.maxAttempts, 8);
  const missing = staticText + 'routes:\n  - { transport: nowhere }\n';
  expectProblem(problemsOf(parseStatic('mailcove.conf', missing)), 'routes[0].transport', 10, /transport "nowhere" not configured/);
  const bad = staticText + 'transports:\n  x:\n    pigeon: {}\n';
  assert.equal(parseStatic('mailcove.conf', bad).ok, false);
});
