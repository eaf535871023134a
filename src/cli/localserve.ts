// `mailcove localserve`: a complete server on loopback with no configuration, for local
// development and for testing applications that send mail. Hermetic: no DNS queries
// and no outside connections unless a resolver is given.
import { access, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { localserveConfig, localserveOffsets } from '../config/index.ts';
import { resolverFromConfig } from '../dns/index.ts';
import { logger } from '../log/index.ts';
import { adminPasswordPath, deriveCredentials, setAdminPassword } from '../sasl/index.ts';
import { startServer } from './server.ts';
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
  let requestStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve)); // `mailcove stop --dir DIR`
  const until = Promise.race([o.until ?? signalled(), stopRequested]);
  await mkdir(o.dir, { recursive: true });
  const config = await localserveConfig({ dir: o.dir, ip: o.ip, basePort: o.basePort, resolver: o.resolver });
  const configDir = dirname(config.paths.static);
  // The admin page's password is the account's, written once (then yours to change with setadminpassword).
  if (!(await access(adminPasswordPath(configDir, config.static)).then(() => true, () => false))) await setAdminPassword(configDir, config.static, localserveAccount.password);
  const server = await startServer({
    config,
    resolver: resolverFromConfig({ servers: o.resolver ? [o.resolver] : 'none' }), // hermetic unless asked
    onStop: requestStop,
    localserve: { account: localserveAccount.name }, // the queue delivers back into the account, or fails as a queue* localpart asks (issue 5)
    prepare: async (store) => {
      if (!(await store.listAccounts()).includes(localserveAccount.name)) await store.createAccount(localserveAccount.name);
      if (!(await store.auth.getCredentials(localserveAccount.name))) await store.auth.setCredentials(localserveAccount.name, await deriveCredentials(localserveAccount.password));
    },
  });
  try {
    const { smtp, imap, web } = server;
    const at = (service: string) => [...smtp.addresses, ...imap.addresses].find((a) => a.service === service)?.port;
    const webURL = (scheme: string, path: string) => `${web.addresses.find((a) => a.url.startsWith(`${scheme}:`) && a.surfaces.includes(path))?.url ?? '(not served)'}${path}`;
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
        `  account page ${webURL('http', '/')} and ${webURL('https', '/')} (log in as ${localserveAccount.address})`,
        `  admin page   ${webURL('http', '/admin/')} and ${webURL('https', '/admin/')} (password ${localserveAccount.password})`,
        `  metrics      ${server.metrics.map((m) => `http://${m.ip}:${m.port}/metrics`).join(' ')}`,
        'coming with later issues (paths reserved):',
        `  webmail and web API on ports ${p(localservePorts.http)} and ${p(localservePorts.https)}: /webmail/, /webapi/`,
        'ready; stop with ctrl-c (SIGINT) or SIGTERM',
        '',
      ].join('\n'),
    );
    await until;
  } finally {
    await server.close();
    o.out.write('stopped\n');
  }
}
