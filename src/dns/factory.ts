// Builds the resolver the configuration asks for: none (hermetic), given servers, or the
// system's resolv.conf servers.
import { NoResolver } from './none.ts';
import { StubResolver } from './stub.ts';
import type { Resolver } from './types.ts';

export interface ResolverConfig {
  servers?: string[] | 'none'; // 'none': hermetic, no DNS traffic; absent: /etc/resolv.conf
  timeoutMs?: number;
  attempts?: number;
}

export function resolverFromConfig(opts: ResolverConfig): Resolver {
  if (opts.servers === 'none' || (Array.isArray(opts.servers) && opts.servers.length === 0)) return new NoResolver();
  return new StubResolver({
    ...(opts.servers ? { servers: opts.servers } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}),
  });
}
