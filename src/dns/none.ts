// The hermetic resolver: every lookup fails at once with `notconfigured` and nothing
// touches the network (localserve without --resolver; mail checks record none/temperror).
import { ResolverBase } from './base.ts';
import { normalizeName } from './names.ts';
import { DnsError, type LookupResult, type RecordMap, type RRType } from './types.ts';

export class NoResolver extends ResolverBase {
  /** Lookups attempted (and refused), so tests can see that a check asked for DNS. */
  queryCount = 0;

  override async lookup<K extends RRType>(name: string, type: K): Promise<LookupResult<RecordMap[K]>> {
    this.queryCount++;
    throw new DnsError('notconfigured', normalizeName(name, type), type, 'no resolver configured (hermetic mode)');
  }
}
