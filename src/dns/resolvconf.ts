// Reads the system resolver configuration (/etc/resolv.conf, resolv.conf(5)): nameservers
// and the timeout/attempts/rotate options the stub resolver uses as its defaults.
import { readFileSync } from 'node:fs';

export interface ResolvConf {
  servers: string[]; // 'ip' or 'ip:port' / '[ipv6]:port'
  timeoutMs: number; // per attempt
  attempts: number; // rounds over all servers
  rotate: boolean; // start at a different server each query
}

const DEFAULT_TIMEOUT_MS = 5000; // resolv.conf(5): RES_TIMEOUT
const DEFAULT_ATTEMPTS = 2; // resolv.conf(5): RES_DFLRETRY
const MAX_SERVERS = 3; // resolv.conf(5): MAXNS

/** Parse resolv.conf text. Unknown lines are ignored, as the libc resolver does. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { servers: [], timeoutMs: DEFAULT_TIMEOUT_MS, attempts: DEFAULT_ATTEMPTS, rotate: false };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...args] = line.split(/\s+/);
    if (key === 'nameserver' && args[0] && conf.servers.length < MAX_SERVERS) {
      conf.servers.push(args[0].replace(/%.*$/, '')); // a zone index is meaningless to us
    } else if (key === 'options') {
      for (const opt of args) {
        const [name, value] = opt.split(':');
        const n = Number(value);
        if (name === 'timeout' && Number.isInteger(n) && n >= 1) conf.timeoutMs = Math.min(n, 30) * 1000; // capped like glibc
        else if (name === 'attempts' && Number.isInteger(n) && n >= 1) conf.attempts = Math.min(n, 5);
        else if (name === 'rotate') conf.rotate = true;
      }
    }
  }
  return conf;
}

/** The configuration from a file; a missing file means no servers (the caller decides). */
export function readResolvConf(path = '/etc/resolv.conf'): ResolvConf {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // resolv.conf(5) defaults to the local server when the file is missing; we refuse to
    // guess and let the stub report 'notconfigured' instead.
  }
  return parseResolvConf(text);
}
