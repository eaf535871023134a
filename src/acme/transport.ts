// acme-client's HTTP side, which is process-wide (one axios instance): extra CA certificates
// trusted for ACME directories (test CAs such as pebble) and its debug lines in our log.
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { axios, setLogger } from 'acme-client';
import { logger } from '../log/index.ts';

const log = logger('acme');
setLogger((line) => log.trace(line));

const extraCAs = new Set<string>();

/**
 * Trusts `pem` (one or more CA certificates) for HTTPS requests to ACME directories, besides
 * the system's roots. The trust is shared by all providers: acme-client has one HTTP client.
 */
export function trustDirectoryCA(pem: string): void {
  if (extraCAs.has(pem)) return;
  extraCAs.add(pem);
  axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, ...extraCAs] });
}
