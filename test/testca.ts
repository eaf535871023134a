// A private certificate authority for tests, made with the openssl command line at test
// time: a CA certificate, and leaf certificates for given DNS names (optionally expired or
// self-signed), with the SHA-256 of their SubjectPublicKeyInfo for TLSA records. Test-only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, X509Certificate } from 'node:crypto';

export interface TestCert {
  certPEM: string; // leaf, then the CA (a chain as a server presents it)
  keyPEM: string;
  leafPEM: string;
  certFile: string;
  keyFile: string;
  spkiSha256: string; // hex, for TLSA 3 1 1
}

export interface TestCA {
  dir: string;
  caPEM: string;
  caSpkiSha256: string; // hex, for TLSA 2 1 1
  issue(names: string[], o?: { expired?: boolean; selfSigned?: boolean }): TestCert;
  remove(): void;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function spkiSha256(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

export function makeTestCA(name = 'Mailcove Test CA'): TestCA {
  const dir = mkdtempSync(join(tmpdir(), 'mailcove-ca-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const caPEM = readFileSync(join(dir, 'ca.crt'), 'utf8');
  let n = 0;
  return {
    dir,
    caPEM,
    caSpkiSha256: spkiSha256(caPEM),
    issue(names, o = {}) {
      const base = `leaf${n++}`;
      const san = `subjectAltName=${names.map((x) => `DNS:${x}`).join(',')}`;
      writeFileSync(join(dir, `${base}.ext`), `${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
      if (o.selfSigned) {
        openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.crt`, '-days', '30', '-subj', `/CN=${names[0]}`, '-addext', san], dir);
      } else {
        openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${names[0]}`], dir);
        // An expired certificate: valid for one day, two days ago (openssl x509 -not_before/-not_after need 3.4; ca -startdate works on 3.0).
        const dates = o.expired ? ['-not_before', ymd(-2), '-not_after', ymd(-1)] : ['-days', '30'];
        try {
          openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${base}.crt`, '-extfile', `${base}.ext`, ...dates], dir);
        } catch (e) {
          if (!o.expired) throw e;
          expiredWithCa(dir, base);
        }
      }
      const leafPEM = readFileSync(join(dir, `${base}.crt`), 'utf8');
      const keyPEM = readFileSync(join(dir, `${base}.key`), 'utf8');
      const certPEM = o.selfSigned ? leafPEM : leafPEM + caPEM;
      const certFile = join(dir, `${base}.chain.pem`);
      writeFileSync(certFile, certPEM);
      return { certPEM, keyPEM, leafPEM, certFile, keyFile: join(dir, `${base}.key`), spkiSha256: spkiSha256(leafPEM) };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ymd(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  return `${d.toISOString().slice(0, 10).replaceAll('-', '').slice(2)}000000Z`;
}

/** openssl 3.0 has no x509 -not_before: sign with `openssl ca`, which takes -startdate/-enddate. */
function expiredWithCa(dir: string, base: string): void {
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'ca.cnf'), `[ca]\ndefault_ca=test\n[test]\ndir=${dir}\ndatabase=${dir}/index.txt\nserial=${dir}/serial\nnew_certs_dir=${dir}\ndefault_md=sha256\npolicy=any\nunique_subject=no\n[any]\ncommonName=supplied\n`);
  openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', `${base}.csr`, '-out', `${base}.crt`, '-startdate', ymd(-2), '-enddate', ymd(-1), '-extfile', `${base}.ext`, '-notext'], dir);
}
