// acme-client's HTTP side, which is process-wide (one axios instance): limits on every ACME
// request, extra CA certificates trusted for ACME directories (test CAs such as pebble) and
// its debug lines in our log.
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { axios, setLogger } from 'acme-client';
import { logger } from '../log/index.ts';

const log = logger('acme');
setLogger((line) => log.trace(line));

// A CA that stops answering or sends without end cannot hold an order: a request ends after
// 30 s without data (axios sets the socket's idle timeout), and a response (a directory,
// order, problem document or PEM chain of a few KB, RFC 8555 §7) may have at most 1 MiB.
// A CA that answers slowly forever meets the deadline of the whole order (manager.ts).
axios.defaults.timeout = 30_000;
axios.defaults.maxContentLength = 1024 * 1024;
axios.defaults.maxBodyLength = 1024 * 1024; // our JWS requests (RFC 8555 §6.2) are far smaller

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
