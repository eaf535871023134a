// An in-memory resolver for tests: records by name and type with an authentic mark,
// injected failures, CNAME following, and a log of the lookups made.
import { ResolverBase } from './base.ts';
import { normalizeName } from './names.ts';
import { DnsError, type DnsErrorKind, type LookupResult, type RecordMap, type RRType } from './types.ts';

interface RRset {
  records: unknown[];
  authentic: boolean;
  ttl: number;
}

export interface RecordOptions {
  authentic?: boolean; // default false: tests opt in to DNSSEC-secure data explicitly
  ttl?: number; // default 300
}

const MAX_CNAME_CHAIN = 8;

export class MemoryResolver extends ResolverBase {
  readonly #zones = new Map<string, Map<string, RRset>>(); // name → type → RRset
  readonly #failures = new Map<string, DnsErrorKind>(); // 'name/TYPE' or 'name/*'
  /** Every lookup asked, as 'name/TYPE' (normalised), so tests can assert what was (not) queried. */
  readonly queries: string[] = [];

  get queryCount(): number { return this.queries.length; }

  /** Add records of one type at a name; adding again appends to the set. Returns this for chaining. */
  add<K extends RRType>(name: string, type: K, records: RecordMap[K][], opts: RecordOptions = {}): this {
    const n = normalizeName(name, type);
    let types = this.#zones.get(n);
    if (!types) this.#zones.set(n, (types = new Map()));
    const set = types.get(type) ?? { records: [], authentic: opts.authentic ?? false, ttl: opts.ttl ?? 300 };
    set.records.push(...records.map((r) => (typeof r === 'string' && type !== 'A' && type !== 'AAAA' ? normalizeName(r) : r)));
    if (opts.authentic !== undefined) set.authentic = opts.authentic;
    types.set(type, set);
    return this;
  }

  /** A TXT record from text, split into 255-byte strings as on the wire (RFC 1035 §3.3.14). */
  addTXT(name: string, text: string, opts: RecordOptions = {}): this {
    const b = Buffer.from(text, 'utf8');
    const strings: Buffer[] = [];
    for (let i = 0; i < b.length || i === 0; i += 255) strings.push(b.subarray(i, i + 255));
    return this.add(name, 'TXT', [{ strings, text }], opts);
  }

  /** Make lookups of name (of one type, or all types) fail with kind. */
  fail(name: string, type: RRType | '*', kind: DnsErrorKind): this {
    this.#failures.set(`${normalizeName(name)}/${type}`, kind);
    return this;
  }

  override async lookup<K extends RRType>(name: string, type: K): Promise<LookupResult<RecordMap[K]>> {
    const qname = normalizeName(name, type);
    this.queries.push(`${qname}/${type}`);
    const result: LookupResult<RecordMap[K]> = { records: [], authentic: true, ttl: Infinity, name: qname, finalName: qname, cnames: [] };
    let current = qname;
    for (;;) {
      const failure = this.#failures.get(`${current}/${type}`) ?? this.#failures.get(`${current}/*`);
      if (failure) throw new DnsError(failure, qname, type, 'injected failure');
      const types = this.#zones.get(current);
      if (!types && !this.#hasDescendant(current)) throw new DnsError('nxdomain', qname, type); // RFC 8020: empty non-terminals exist
      const set = types?.get(type);
      const cname = type === 'CNAME' ? undefined : types?.get('CNAME');
      if (set || !cname) {
        result.records = (set?.records ?? []) as RecordMap[K][];
        result.authentic &&= set?.authentic ?? true;
        result.ttl = Math.min(result.ttl, set?.ttl ?? 300);
        return result;
      }
      const target = cname.records[0] as string;
      result.authentic &&= cname.authentic;
      result.ttl = Math.min(result.ttl, cname.ttl);
      result.cnames.push(target);
      result.finalName = current = target;
      if (result.cnames.length > MAX_CNAME_CHAIN) throw new DnsError('malformed', qname, type, 'CNAME chain too long');
    }
  }

  #hasDescendant(name: string): boolean {
    const suffix = `.${name}`;
    for (const n of this.#zones.keys()) if (n.endsWith(suffix)) return true;
    return false;
  }
}
