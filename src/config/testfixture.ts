// Config files in a temp directory for the tests of this folder.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const staticText = `# Mailcove static config for tests
hostname: mail.example.com
listeners:
  public:
    ips: [127.0.0.1]
    smtp: {}
    submission:
      port: 1587
`;

export const domainsText = `# Domains for tests
domains:
  example.com: {}  # the main domain
  Bücher.Example:
    localpartCatchallSeparator: +
accounts:
  # mjl is the admin
  mjl:
    domain: example.com
    destinations:
      mjl@example.com: {}
      Postmaster: {}   # bare localpart: at example.com
      info@xn--bcher-kva.example:
        mailbox: Info
`;

export interface TestDir {
  dir: string;
  staticPath: string;
  domainsPath: string;
  cleanup(): Promise<void>;
}

export async function configDir(files: { static?: string; domains?: string } = {}): Promise<TestDir> {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-config-'));
  const staticPath = join(dir, 'mailcove.conf');
  const domainsPath = join(dir, 'domains.conf');
  await writeFile(staticPath, files.static ?? staticText);
  await writeFile(domainsPath, files.domains ?? domainsText);
  return { dir, staticPath, domainsPath, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Waits until cond() holds, polling; fails after `ms` so a broken watcher cannot hang the suite. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
