// `mailcove localserve`: a complete server on loopback with no configuration, for local
// development and for testing applications that send mail. Hermetic: no DNS queries
// and no outside connections unless a resolver is given.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { localserveConfig, localserveOffsets, watchDomains } from '../config/index.ts';
import { openStore } from '../store/index.ts';
import { deriveCredentials } from '../sasl/index.ts';
import { resolverFromConfig } from '../dns/index.ts';
import { collectProcessMetrics, startMetricsListener } from '../metrics/index.ts';
import { logger } from '../log/index.ts';
import { AccountCache, startSmtp, type RunningSmtp } from '../smtpserver/index.ts';
import { Queue, controlSocketPath, startControl, type RunningControl } from '../queue/index.ts';
import { startImap, type RunningImap } from '../imapserver/index.ts';
import { authFailureLimiter } from '../sasl/index.ts';
import { version } from './version.ts';

const log = logger('localserve');

export const localserveDefaults = { dir: 'data/localserve', ip: '127.0.0.1', basePort: 1000 } as const;
export const localserveAccount = { name: 'mailcove', address: 'mailcove@localhost', password: 'mailcovemailcove' } as const;

/** Port offsets from the base port: the standard port of each service (issue 2). */
export const localservePorts = localserveOffsets;

export interface LocalserveOptions {
  dir: string;
  ip: string;
  basePort: number;
  resolver?: string | undefined;
  out: NodeJS.WritableStream;
  /** Resolves when the server should stop; default: SIGINT or SIGTERM. */
  until?: Promise<void>;
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, 'shutting down');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function localserve(o: LocalserveOptions): Promise<void> {
  const until = o.until ?? signalled();
  await mkdir(o.dir, { recursive: true });
  const config = await localserveConfig({ dir: o.dir, ip: o.ip, basePort: o.basePort, resolver: o.resolver });
  const resolver = resolverFromConfig({ servers: o.resolver ? [o.resolver] : 'none' }); // hermetic unless asked
  const store = await openStore(config.paths.dataDir);
  // domains.conf is live: edits (by hand or `mailcove config account add --dir`) apply without a restart.
  const domains = watchDomains(config, (d) => log.info({ accounts: Object.keys(d.accounts).length }, 'domains.conf reloaded'));
  const metrics = await (async () => {
    try {
      const m = await startMetricsListener(o.ip, o.basePort + localservePorts.metrics);
      collectProcessMetrics();
      return m;
    } catch (e) {
      domains.close();
      await store.close();
      throw e;
    }
  })();
  let smtp: RunningSmtp | undefined;
  let imap: RunningImap | undefined;
  let queue: Queue | undefined;
  let control: RunningControl | undefined;
  const accounts = new AccountCache(store);
  try {
    if (!(await store.listAccounts()).includes(localserveAccount.name)) await store.createAccount(localserveAccount.name);
    if (!(await store.auth.getCredentials(localserveAccount.name))) await store.auth.setCredentials(localserveAccount.name, await deriveCredentials(localserveAccount.password));
    const authFailures = authFailureLimiter(); // one limiter: failed logins count across SMTP and IMAP
    smtp = await startSmtp({ config, store, domains, resolver, localserve: { account: localserveAccount.name }, context: { authFailures } });
    imap = await startImap({ config, store, domains, localserve: true, authFailures });
    // The queue runs, but delivers back into the account (or fails as a queue* localpart asks), DSNs included (issue 5).
    queue = Queue.start({ store, static: config.static, configDir: dirname(config.paths.static), domains: () => domains.current(), resolver, accounts, localserve: { account: localserveAccount.name } });
    control = await startControl({ path: controlSocketPath(config.paths.dataDir), queue }); // `mailcove queue ... --dir` talks to it
    const at = (service: string) => [...(smtp?.addresses ?? []), ...(imap?.addresses ?? [])].find((a) => a.service === service)?.port;
    const p = (n: number) => o.basePort + n;
    o.out.write(
      [
        `mailcove ${version()} localserve`,
        `config:   ${config.paths.static} and ${config.paths.domains}`,
        `data:     ${config.paths.dataDir}`,
        `account:  ${localserveAccount.name}, address ${localserveAccount.address} (sub-addresses such as mailcove+tag@localhost too), password ${localserveAccount.password}`,
        `dns:      ${o.resolver ? `resolver ${o.resolver}` : 'none (hermetic: checks that need DNS record none/temperror)'}`,
        'serving:',
        `  smtp         ${o.ip}:${at('smtp')} (MX: any recipient goes to the account)`,
        `  submission   ${o.ip}:${at('submission')} (STARTTLS; AUTH PLAIN/LOGIN also without TLS on loopback)`,
        `  submissions  ${o.ip}:${at('submissions')} (implicit TLS, self-signed certificate)`,
        `  imap         ${o.ip}:${at('imap')} (STARTTLS; LOGIN and plaintext AUTHENTICATE also without TLS on loopback)`,
        `  imaps        ${o.ip}:${at('imaps')} (implicit TLS, self-signed certificate)`,
        '  simulated failures: send to tempfail@, permfail@, timeout@ or 550@ (any 4xx/5xx code); prefix mailfrom/rcptto to fail at that command',
        '  queue:       submissions are queued and delivered back into the account; queuetempfail@, queuepermfail@, queuetimeout@ or queue550@ fail at delivery, with DSNs to the account',
        `  metrics      http://${o.ip}:${metrics.port}/metrics`,
        'coming with later issues (ports reserved):',
        `  http ${p(localservePorts.http)}, https ${p(localservePorts.https)}`,
        'ready; stop with ctrl-c (SIGINT) or SIGTERM',
        '',
      ].join('\n'),
    );
    await until;
  } finally {
    await Promise.all([smtp?.close(), imap?.close()]);
    await control?.close();
    await queue?.stop();
    await accounts.close();
    domains.close();
    await metrics.close();
    await store.close();
    o.out.write('stopped\n');
  }
}
