// `mailcove config dnsrecords` and `mailcove config dnscheck`: the records a domain needs
// as zone-file lines, and the live check of them through the configured resolver. Both
// use src/dnsrecords, as the admin page does.
import { dirname } from 'node:path';
import type { Config } from '../config/index.ts';
import { resolverFromConfig, type Resolver } from '../dns/index.ts';
import { checkRecords, DnsRecordsError, domainRecords, zoneLines, type DnsRecordSpec } from '../dnsrecords/index.ts';
import { CommandError, type Command, type OptionSpec, type OptionValues } from './command.ts';

/** What the command table provides: its --config/--dir options and how it loads the config they name. */
export interface DnsCommandsDeps {
  options: Record<string, OptionSpec>;
  load(options: OptionValues): Promise<Config>;
  resolver?(config: Config): Resolver; // default: the resolver mailcove.conf configures
}

async function recordsOf(config: Config, name: string): Promise<{ domain: string; specs: DnsRecordSpec[] }> {
  try {
    const r = await domainRecords({ static: config.static, configDir: dirname(config.paths.static), dataDir: config.paths.dataDir, domains: config.domains, name });
    return { domain: r.ascii, specs: r.specs };
  } catch (e) {
    if (e instanceof DnsRecordsError) throw new CommandError(e.message);
    throw e;
  }
}

/** The two command rows; the table passes its shared config options and loader. */
export function dnsCommands(deps: DnsCommandsDeps): Command[] {
  return [
    {
      name: 'config dnsrecords',
      args: 'DOMAIN',
      minArgs: 1,
      maxArgs: 1,
      summary: 'Print the DNS records DOMAIN needs (MX, SPF, DKIM, DMARC, TLSRPT, MTA-STS, autoconfig/SRV, CAA, TLSA) as zone-file lines.',
      description: 'Each record is preceded by a comment saying what it is for. Records for the host name (its SPF, TLSRPT, TLSA and addresses) are the same for every domain and need to be created once. TLSA records are printed when the SMTP listener has certificate files, or a self-signed certificate the server has already made.',
      options: { ...deps.options },
      run: async ({ args, options, stdout }) => {
        const config = await deps.load(options);
        const { domain, specs } = await recordsOf(config, args[0]!);
        stdout.write([`; DNS records for ${domain}, mail host ${config.static.hostname}`, ...zoneLines(specs), ''].join('\n'));
      },
    },
    {
      name: 'config dnscheck',
      args: 'DOMAIN',
      minArgs: 1,
      maxArgs: 1,
      summary: 'Look up the DNS records DOMAIN needs and say per record: correct, missing, wrong (with the expected value) or error.',
      description: 'Uses the resolver of mailcove.conf. Exits with code 1 when any record is not correct.',
      options: { ...deps.options },
      run: async ({ args, options, stdout }) => {
        const config = await deps.load(options);
        const { specs } = await recordsOf(config, args[0]!);
        const resolver = deps.resolver ? deps.resolver(config) : resolverFromConfig({ ...(config.static.resolver !== undefined ? { servers: config.static.resolver } : {}) });
        const results = await checkRecords(resolver, specs);
        for (const c of results) {
          const found = c.status === 'wrong' && c.found.length ? `; found: ${c.found.join(' | ')}` : '';
          stdout.write(`${c.status.padEnd(7)} ${c.spec.name}. ${c.spec.type}${c.message ? `: ${c.message}` : ''}${found}\n`);
        }
        const bad = results.filter((c) => c.status !== 'correct').length;
        stdout.write(bad ? `${bad} of ${results.length} records not correct\n` : `all ${results.length} records correct\n`);
        return bad ? 1 : 0;
      },
    },
  ];
}
