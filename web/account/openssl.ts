// The openssl commands the TLS keys tab shows for making a key, a minimal self-signed
// certificate and a .p12 for mail clients. Plain data (no DOM), so a test runs exactly
// these commands and uploads the result.

export interface OpensslStep {
  title: string;
  commands: string[]; // shell commands, run in an empty folder; several are alternatives (run one)
}

/** Steps for a key that logs in as `address`; file names key.pem, cert.pem, key.p12. */
export function opensslSteps(address: string): OpensslStep[] {
  const cn = address.replace(/["\\/$`]/g, ''); // inside a double-quoted -subj: nothing that the shell or openssl's name syntax reads
  return [
    {
      title: 'Make a private key: ed25519 (small and fast; not every mail client takes it yet) or RSA (works everywhere)',
      commands: ['openssl genpkey -algorithm ed25519 -out key.pem', 'openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out key.pem'],
    },
    {
      title: 'Make a minimal self-signed certificate for the key (only its public key counts here; upload this cert.pem, never key.pem)',
      commands: [`openssl req -new -x509 -key key.pem -subj "/CN=${cn}" -days 3650 -out cert.pem`],
    },
    {
      title: 'Bundle key and certificate as a .p12 for mail clients (it asks for a password to protect the file; add -legacy for older macOS, iOS and Windows)',
      commands: [`openssl pkcs12 -export -inkey key.pem -in cert.pem -name "${cn}" -out key.p12`],
    },
  ];
}
