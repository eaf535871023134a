// Runs `mailcove` commands in-process through main() with captured output, for the CLI
// tests of this folder. Test-only.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { main } from './main.ts';

export interface RunResult { code: number; stdout: string; stderr: string }

/** Runs argv, inserting `--config CONFIG` after the first `words` words (the command name). */
export async function runMailcove(config: string, words: number, argv: string[], input?: string): Promise<RunResult> {
  return runArgv([...argv.slice(0, words), '--config', config, ...argv.slice(words)], input);
}

/** Runs argv as given (e.g. with `--dir DIR`); `input`, when given, is standard input (not a terminal), as bytes. */
export async function runArgv(argv: string[], input?: string | Buffer): Promise<RunResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await main(argv, { stdout: out as unknown as typeof process.stdout, stderr: err as unknown as typeof process.stderr, stdin: input === undefined ? process.stdin : (Readable.from([Buffer.from(input)]) as unknown as typeof process.stdin) });
  return { code, stdout, stderr };
}

/** mailcove.conf for CLI tests: one loopback listener, data in ./data. */
export const cliStaticText = `hostname: mail.example.com
dataDir: data
listeners:
  public:
    ips: [127.0.0.1]
    smtp: {}
`;

/** domains.conf for CLI tests: accounts mjl and bob at example.com. */
export const cliDomainsText = `# domains for the CLI tests
domains:
  example.com: {}  # main domain
accounts:
  mjl:
    domain: example.com
    destinations:
      mjl@example.com: {}
  bob:
    domain: example.com
    destinations:
      bob@example.com: {}
`;

/** A temp config directory with mailcove.conf and domains.conf, removed after the test. */
export async function cliConfigDir(t: { after(fn: () => Promise<void>): void }, prefix: string, files: { static?: string; domains?: string } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `mailcove-${prefix}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'mailcove.conf'), files.static ?? cliStaticText);
  await writeFile(join(dir, 'domains.conf'), files.domains ?? cliDomainsText);
  return dir;
}
