// Everything a running server is, started from a loaded config: the store, the live
// domains.conf, DNS, metrics, SMTP, IMAP, the outbound queue and its control socket, and
// the web listeners. `mailcove serve` and `mailcove localserve` both start it (localserve
// with its delivery simulations); close() stops it in the order that loses nothing:
// listeners first (in-flight commands finish or are cut before their acknowledgement),
// then the queue (a delivery still running after the grace period is made again after
// the restart), then the store.
import { dirname } from 'node:path';
import type { Config, DomainsConfig, DynamicConfig } from '../config/index.ts';
import { watchDomains } from '../config/index.ts';
import { resolverFromConfig, type Resolver } from '../dns/index.ts';
import { logger } from '../log/index.ts';
import { collectProcessMetrics, startMetricsListener } from '../metrics/index.ts';
import { Queue, controlSocketPath, startControl, type RunningControl } from '../queue/index.ts';
import { authFailureLimiter } from '../sasl/index.ts';
import { AccountCache, startSmtp, type RunningSmtp } from '../smtpserver/index.ts';
import { startImap, type RunningImap } from '../imapserver/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { acmeHostnames, loadAcme, type AcmeManager } from '../acme/index.ts';
import { startWeb, type RunningWeb } from './web.ts';
import { version } from './version.ts';

const log = logger('server');

export interface ServerOptions {
  config: Config;
  /** Overrides the config's resolver (localserve's --resolver). */
  resolver?: Resolver;
  /** localserve: deliveries go to this account, failures are simulated by localpart. */
  localserve?: { account: string };
  /** Called when `mailcove stop` asks the server to stop (through the control socket). */
  onStop?: () => void;
  /** Called once the store is open, before any listener starts (localserve creates its account here). */
  prepare?: (store: Store) => Promise<void>;
}

export interface RunningServer {
  store: Store;
  domains: DynamicConfig;
  smtp: RunningSmtp;
  imap: RunningImap;
  queue: Queue;
  web: RunningWeb;
  metrics: Array<{ ip: string; port: number }>;
  /** Stops everything; deliveries running after graceMs are abandoned and made after the restart. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Account quotas live in domains.conf (quotaBytes) and are enforced by the store: at start
 * and after each reload, changed ones are handed to the store (RFC 9208 STORAGE limit).
 */
class QuotaSync {
  readonly #store: Store;
  readonly #applied = new Map<string, number | null>();
  #running: Promise<void> = Promise.resolve();
  constructor(store: Store) {
    this.#store = store;
  }

  apply(d: DomainsConfig): Promise<void> {
    this.#running = this.#running.then(async () => {
      const existing = new Set(await this.#store.listAccounts().catch((e: unknown) => {
        log.error({ err: e }, 'listing accounts to apply quotas failed');
        return [];
      }));
      for (const [name, a] of Object.entries(d.accounts)) {
        const limit = a.quotaBytes ? a.quotaBytes : null;
        if (!existing.has(name) || this.#applied.get(name) === limit) continue;
        try {
          const acc = await this.#store.openAccount(name);
          try {
            if ((await acc.quota()).limit !== limit) await acc.setQuota(limit);
          } finally {
            await acc.close();
          }
          this.#applied.set(name, limit);
        } catch (e) {
          log.error({ err: e, account: name }, 'applying the quota of domains.conf failed');
        }
      }
    });
    return this.#running;
  }
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const config = o.config;
  const st = config.static;
  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log.error({ err: e }, 'error while shutting down');
      }
    }
  };
  try {
    const store = await openStore(config.paths.dataDir);
    closers.push(() => store.close());
    await o.prepare?.(store);
    // domains.conf is live: edits (by hand, the admin page or `mailcove config ...`) apply without a restart.
    const quotas = new QuotaSync(store);
    let acmeUpdate: ((d: DomainsConfig) => void) | undefined; // new domains need autoconfig/mta-sts certificates
    const domains = watchDomains(config, (d) => {
      log.info({ accounts: Object.keys(d.accounts).length }, 'domains.conf reloaded');
      void quotas.apply(d);
      acmeUpdate?.(d);
    });
    closers.push(() => domains.close());
    await quotas.apply(domains.current());
    const resolver = o.resolver ?? resolverFromConfig({ servers: st.resolver });
    collectProcessMetrics();
    const metrics: Array<{ ip: string; port: number }> = [];
    for (const l of Object.values(st.listeners)) {
      if (!l.metricsHTTP.enabled) continue;
      for (const ip of l.ips) {
        const m = await startMetricsListener(ip, l.metricsHTTP.port);
        closers.push(() => m.close());
        metrics.push({ ip, port: m.port });
      }
    }
    // ACME: each provider a listener uses loads its cached certificates before the listeners start
    // (loadListenerTls finds it), and starts obtaining and renewing once they listen (challenges need them).
    const acmeNames = (d: DomainsConfig, provider: string) => acmeHostnames(st, d, provider);
    const providers = [...new Set(Object.values(st.listeners).flatMap((l) => (l.tls?.acme !== undefined ? [l.tls.acme] : [])))];
    const acme: AcmeManager[] = [];
    for (const provider of providers) {
      const m = await loadAcme({ provider, config: st.acme[provider]!, dataDir: config.paths.dataDir, configDir: dirname(config.paths.static), names: acmeNames(domains.current(), provider) });
      closers.push(() => m.close());
      acme.push(m);
    }
    acmeUpdate = (d) => {
      for (const [i, m] of acme.entries()) void m.setNames(acmeNames(d, providers[i]!)).catch((e: unknown) => log.error({ err: e }, 'updating ACME names failed'));
    };
    const accounts = new AccountCache(store);
    closers.push(() => accounts.close());
    const authFailures = authFailureLimiter(); // one limiter: failed logins count across SMTP, IMAP and the web
    const queue = Queue.start({ store, static: st, configDir: dirname(config.paths.static), domains: () => domains.current(), resolver, accounts, ...(o.localserve ? { localserve: o.localserve } : {}) });
    let graceMs: number | undefined;
    closers.push(() => (graceMs === undefined ? queue.stop() : queue.stop(graceMs)));
    const control: RunningControl = await startControl({ path: controlSocketPath(config.paths.dataDir), queue, ...(o.onStop ? { onStop: o.onStop } : {}) });
    closers.unshift(() => control.close()); // closed last: `mailcove stop` waits for this connection to end, so it returns when all is stopped
    // Listeners stop together, first: no new work arrives while the queue and store shut down. Each
    // is added as it starts, so a failure to start a later one still closes the earlier ones.
    const listening: Array<{ close(): Promise<unknown> }> = [];
    closers.push(() => Promise.all(listening.map((l) => l.close())).then(() => undefined));
    const smtp = await startSmtp({ config, store, domains, resolver, ...(o.localserve ? { localserve: o.localserve } : {}), context: { authFailures } });
    listening.push(smtp);
    const imap = await startImap({ config, store, domains, localserve: o.localserve !== undefined, authFailures });
    listening.push(imap);
    const web = await startWeb({ config, store, domains: () => domains.current(), authFailures, resolver, queue, version: version(), startedAt: new Date() });
    listening.push(web);
    for (const m of acme) m.start();
    return {
      store, domains, smtp, imap, queue, web, metrics,
      close: async (grace?: number) => {
        graceMs = grace;
        await closeAll();
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
