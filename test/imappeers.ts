// Peer programs for the IMAP interop tests (test/imap-interop.test.ts): finding them, running
// them without blocking the event loop (the server under test runs in this process), and
// reading the Maildir mbsync leaves behind. Peers come from scripts/install-test-peers.sh.
import { spawn, spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Whether a peer is installed; in CI (CI=true) a missing peer is an error, not a skip. */
export function have(cmd: string): boolean {
  const ok = spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!ok && process.env['CI'] === 'true') throw new Error(`${cmd} is not installed (scripts/install-test-peers.sh)`);
  return ok;
}

/** A test's `skip` option: false when the peer is installed, else why the test is skipped. */
export function needs(cmd: string, debianPackage: string): false | string {
  return have(cmd) ? false : `${cmd} is not installed (Debian package ${debianPackage}; scripts/install-test-peers.sh)`;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number; // wall time of the run
}

/**
 * Runs a command to its end. `onLine` sees each line of its standard output as it arrives,
 * so a test can act at a point of the peer's dialogue (a delivery while the peer idles).
 */
export function run(cmd: string, args: string[], o: { input?: string; timeoutMs?: number; onLine?: (line: string) => void | Promise<void>; cwd?: string } = {}): Promise<RunResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(o.cwd ? { cwd: o.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!o.onLine) return;
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) void Promise.resolve(o.onLine(l)).catch((e: unknown) => (stderr += `onLine: ${String(e)}\n`));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Math.round(performance.now() - start) });
    });
    child.stdin.end(o.input ?? '');
  });
}

/** A message file of a Maildir folder (cur/ or new/) with its flags from the ":2,FLAGS" info suffix. */
export interface MaildirMessage {
  path: string;
  sub: 'cur' | 'new';
  flags: string; // maildir flag letters, sorted: D(raft) F(lagged) P(assed) R(eplied) S(een) T(rashed)
  data: Buffer;
}

export async function readMaildir(folder: string): Promise<MaildirMessage[]> {
  const out: MaildirMessage[] = [];
  for (const sub of ['cur', 'new'] as const) {
    for (const name of (await readdir(join(folder, sub))).sort()) {
      const info = /:2,([A-Za-z]*)$/.exec(name);
      out.push({ path: join(folder, sub, name), sub, flags: [...(info?.[1] ?? '')].sort().join(''), data: await readFile(join(folder, sub, name)) });
    }
  }
  return out;
}

/** IMAP system flags of maildir flag letters (the mapping mbsync uses; P has no system flag). */
export function imapFlagsOfMaildir(letters: string): string[] {
  const map: Record<string, string> = { D: '\\Draft', F: '\\Flagged', R: '\\Answered', S: '\\Seen', T: '\\Deleted' };
  return [...letters].flatMap((l) => (map[l] ? [map[l]] : [])).sort();
}
