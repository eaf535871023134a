// What every admin API method shares: the server parts it works on (AdminSurfaceDeps),
// a session (no admin method answers without one), and the translation of the errors the
// config, store and password code throw for a bad request into user:error with their text.
import type { z } from 'zod';
import type { Config, DomainsConfig } from '../config/index.ts';
import type { Resolver } from '../dns/index.ts';
import { DnsRecordsError } from '../dnsrecords/index.ts';
import { ApiError, sessionMethod, type ApiCall, type ApiMethod } from '../http/index.ts';
import type { Queue, Wire } from '../queue/index.ts';
import type { AuthFailureLimiter } from '../sasl/index.ts';
import type { Store } from '../store/index.ts';

/** The running server's parts the admin page shows and changes. */
export interface AdminSurfaceDeps {
  config: Config; // edits go through it; domains.conf is written atomically and live holders see the change at once
  store: Store;
  domains: () => DomainsConfig; // the live domains.conf
  authFailures: AuthFailureLimiter; // shared with SMTP and IMAP
  resolver: Resolver; // for the DNS check
  queue?: Queue; // absent when the queue does not run: its methods answer "queue not running"
  version: string;
  startedAt: Date;
}

/** A session-only method whose handler's expected failures reach the admin as user:error (DNS record problems too). */
export function adminMethod<I extends z.ZodType, O>(input: I, handler: (input: z.output<I>, call: ApiCall<'session'>) => Promise<O> | O): ApiMethod<I, O, 'session'> {
  return sessionMethod(input, handler, (e) => (e instanceof DnsRecordsError ? new ApiError('user:error', e.message) : undefined));
}

/** Types a result as the JSON the API layer makes of it (dates as ISO 8601 strings, Date.toJSON); the value is sent as is. */
export type { Wire };

export function wire<T>(v: T): Wire<T> {
  return v as unknown as Wire<T>;
}

/** A page of a list, and how many there are in all (for the pager). */
export interface Page<T> { total: number; offset: number; items: T[] }

export function page<T>(all: readonly T[], offset: number, limit: number): Page<T> {
  return { total: all.length, offset, items: all.slice(offset, offset + limit) };
}
