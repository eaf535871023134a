// Starting the IMAP services a configuration asks for: one listener per IP and enabled
// service (imap with STARTTLS, imaps with implicit TLS). Used by `serve` and `localserve`.
import { mkdir, readdir, rm } from 'node:fs/promises';
import type { Config, DynamicConfig } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { loadListenerTls, type TlsConfig } from '../tls/index.ts';
import { authFailureLimiter, type AuthFailureLimiter } from '../sasl/index.ts';
import type { ImapContext } from './context.ts';
import { RecentRegistry } from './recent.ts';
import { startImapServers, type ImapListenerSpec, type ImapServers } from './server.ts';
import { dirname } from 'node:path';

const minute = 60_000;

export interface StartImapOptions {
  config: Config;
  store: Store;
  domains: DynamicConfig;
  localserve?: boolean;
  /** Shared with SMTP so failed logins count across protocols (issue 4). */
  authFailures?: AuthFailureLimiter;
  /** Overrides for tests. */
  context?: Partial<ImapContext>;
  /** Tests: listen on these ports instead of the configured ones (0: any free port). */
  ports?: Partial<Record<'imap' | 'imaps', number>>;
}

export interface RunningImap extends ImapServers {
  tls: TlsConfig[];
}

export async function startImap(o: StartImapOptions): Promise<RunningImap> {
  const st = o.config.static;
  const spoolDir = `${o.config.paths.dataDir}/tmp/imap`;
  await mkdir(spoolDir, { recursive: true });
  for (const f of await readdir(spoolDir)) await rm(`${spoolDir}/${f}`, { force: true }); // literals of commands a crash interrupted: never acknowledged
  const ctx: ImapContext = {
    hostname: st.hostname,
    store: o.store,
    domains: () => o.domains.current(),
    spoolDir,
    limits: {
      maxLine: 64 * 1024,
      maxCommand: 1024 * 1024,
      maxMessage: st.limits.maxMessageSize,
      memoryLiteral: 256 * 1024,
      maxConnectionsPerIP: o.localserve ? 0 : st.limits.maxConnectionsPerIP,
      maxErrors: 50,
    },
    timeouts: { preAuthMs: minute, idleMs: 30 * minute }, // RFC 9051 §5.4: 30 minutes at least once logged in
    authFailures: o.authFailures ?? authFailureLimiter(),
    recent: new RecentRegistry(),
    localserve: !!o.localserve,
    ...o.context,
  };
  const configDir = dirname(o.config.paths.static);
  const tls: TlsConfig[] = [];
  const specs: ImapListenerSpec[] = [];
  try {
    for (const l of Object.values(st.listeners)) {
      const hostname = l.hostname ?? st.hostname;
      const t = l.tls ? await loadListenerTls({ tls: l.tls, hostname, ips: l.ips, configDir, dataDir: o.config.paths.dataDir }) : undefined;
      if (t) tls.push(t);
      for (const service of ['imap', 'imaps'] as const) {
        const svc = l[service];
        if (!svc.enabled) continue;
        for (const ip of l.ips) specs.push({ service, ip, port: o.ports?.[service] ?? svc.port, hostname, tls: t });
      }
    }
    const servers = await startImapServers(ctx, specs);
    return {
      ...servers,
      tls,
      close: async (graceMs?: number) => {
        await servers.close(graceMs);
        for (const t of tls) t.close();
      },
    };
  } catch (e) {
    for (const t of tls) t.close();
    throw e;
  }
}
