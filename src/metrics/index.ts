// Prometheus metrics behind a small interface: modules ask for counters, gauges and
// histograms here and never import prom-client themselves.
import client from 'prom-client';

export interface Counter<L extends string = string> {
  inc(labels?: Partial<Record<L, string>>, value?: number): void;
  get(labels?: Partial<Record<L, string>>): Promise<number>;
}
export interface Gauge<L extends string = string> {
  set(labels: Partial<Record<L, string>>, value: number): void;
  inc(labels?: Partial<Record<L, string>>, value?: number): void;
  dec(labels?: Partial<Record<L, string>>, value?: number): void;
}
export interface Histogram<L extends string = string> {
  observe(labels: Partial<Record<L, string>>, value: number): void;
}

const registry = new client.Registry();
let defaultsCollected = false;

function existing(name: string): client.Metric | undefined {
  return registry.getSingleMetric(name);
}

/**
 * A counter. `initLabels` lists label sets that are exported as 0 before their first
 * increment, so that dashboards and alerts see the series from the start.
 */
export function counter<L extends string>(name: string, help: string, labelNames: readonly L[] = [], initLabels: readonly Partial<Record<L, string>>[] = []): Counter<L> {
  const c = (existing(name) as client.Counter<L> | undefined) ?? new client.Counter<L>({ name, help, labelNames: [...labelNames], registers: [registry] });
  for (const l of initLabels) c.inc(l as client.LabelValues<L>, 0);
  if (labelNames.length === 0 && initLabels.length === 0) c.inc(0);
  return {
    inc: (labels, value = 1) => (labels ? c.inc(labels as client.LabelValues<L>, value) : c.inc(value)),
    get: async (labels) => {
      const m = await c.get();
      const want = Object.entries(labels ?? {});
      return m.values.filter((v) => want.every(([k, x]) => (v.labels as Record<string, string | number | undefined>)[k] === x)).reduce((s, v) => s + v.value, 0);
    },
  };
}

export function gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  const g = (existing(name) as client.Gauge<L> | undefined) ?? new client.Gauge<L>({ name, help, labelNames: [...labelNames], registers: [registry] });
  return {
    set: (labels, value) => g.set(labels as client.LabelValues<L>, value),
    inc: (labels, value = 1) => g.inc(labels as client.LabelValues<L>, value),
    dec: (labels, value = 1) => g.dec(labels as client.LabelValues<L>, value),
  };
}

/** A gauge whose values are read when metrics are scraped (e.g. a queue's size from its database). */
export function gaugeCollected<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Promise<ReadonlyArray<{ labels: Partial<Record<L, string>>; value: number }>>): void {
  if (existing(name)) registry.removeSingleMetric(name); // the newest reader wins (a restarted queue in tests)
  new client.Gauge<L>({
    name, help, labelNames: [...labelNames], registers: [registry],
    async collect() {
      this.reset();
      for (const v of await read()) this.set(v.labels as client.LabelValues<L>, v.value);
    },
  });
}

/** A histogram of durations in seconds (default buckets suit protocol commands). */
export function histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]): Histogram<L> {
  const h = (existing(name) as client.Histogram<L> | undefined) ?? new client.Histogram<L>({ name, help, labelNames: [...labelNames], buckets: [...buckets], registers: [registry] });
  return { observe: (labels, value) => h.observe(labels as client.LabelValues<L>, value) };
}

/** Process metrics (CPU, memory, event loop lag); called once by the server at start. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  client.collectDefaultMetrics({ register: registry, prefix: 'mailcove_' });
  // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool
  // check metrics refuses them); the non-_total active_handles/requests/resources remain.
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) registry.removeSingleMetric(`mailcove_nodejs_${name}`);
}

/** The exposition text for GET /metrics, and its content type. */
export async function exposition(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** Protocols whose connection handlers report uncaught errors. */
export const protocols = ['smtp', 'submission', 'imap', 'http', 'queue', 'store', 'cli'] as const;
export type Protocol = (typeof protocols)[number];

// A connection handler that throws something it did not expect is a bug: it is counted
// here (and logged with its stack by the caller). The test harness fails a run in which
// this counter is not 0 (see test/setup.ts).
const uncaught = counter<'protocol'>('mailcove_uncaught_errors_total', 'Unexpected errors caught at a connection or operation boundary (bugs).', ['protocol'], protocols.map((protocol) => ({ protocol })));

let uncaughtTotal = 0;

export function countUncaughtError(protocol: Protocol): void {
  uncaughtTotal++;
  uncaught.inc({ protocol });
}

/** All uncaught errors counted in this process (synchronous, for exit hooks). */
export function uncaughtErrorCount(): number {
  return uncaughtTotal;
}

// TLS connections by protocol and negotiated version (TLS 1.2 and 1.3 exported at 0 from the start).
const tlsVersions = ['TLSv1.2', 'TLSv1.3'] as const;
const tlsConnections = counter<'protocol' | 'version'>('mailcove_tls_connections_total', 'TLS connections by protocol and negotiated TLS version.', ['protocol', 'version'],
  (['smtp', 'submission', 'imap', 'http'] as const).flatMap((protocol) => tlsVersions.map((version) => ({ protocol, version }))));

export function countTlsConnection(protocol: Protocol, version: string | null | undefined): void {
  tlsConnections.inc({ protocol, version: version || 'unknown' });
}

// Logins by protocol and result, whatever the mechanism (web logins as web-account/web-admin).
const authResults = ['ok', 'badauth', 'disabled', 'malformed', 'ratelimited', 'error'] as const;
const auths = counter<'protocol' | 'result'>('mailcove_auth_total', 'Login attempts by protocol (submission, imap, web-account, web-admin) and result.', ['protocol', 'result'],
  ['submission', 'imap', 'web-account', 'web-admin'].flatMap((protocol) => authResults.map((result) => ({ protocol, result }))));

export function countAuth(protocol: string, result: string): void {
  auths.inc({ protocol, result });
}

export { startMetricsListener } from './listener.ts';
