// `mailcove serve`: runs everything the config describes until SIGTERM/SIGINT or `mailcove
// stop`. Started as root with `user` set in mailcove.conf, it binds the privileged ports
// first and then runs as that user (the data and config folders are made theirs, so the
// server can write them: messages, the queue, domains.conf edits from the admin page).
import { execFileSync } from 'node:child_process';
import { chown, lstat, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Config } from '../config/index.ts';
import { logger } from '../log/index.ts';
import { ControlClient, controlSocketPath } from '../queue/index.ts';
import { CommandError } from './command.ts';
import { startServer } from './server.ts';
import { version } from './version.ts';

const log = logger('serve');

/** Test-only: every configured port is raised by this offset, so a generated config runs on unprivileged ports. */
export const testPortOffsetEnv = 'MAILCOVE_TEST_PORT_OFFSET';

function offsetPorts(config: Config, offset: number): void {
  for (const l of Object.values(config.static.listeners)) {
    for (const svc of Object.values(l)) {
      if (svc && typeof svc === 'object' && 'port' in svc && typeof svc.port === 'number') svc.port += offset;
    }
  }
}

/** uid and gid of a user name (node has no getpwnam). */
function userIds(user: string): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new CommandError(`user ${JSON.stringify(user)} (mailcove.conf "user") does not exist`);
  }
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (st.uid !== uid || st.gid !== gid) await chown(path, uid, gid);
  if (st.isDirectory()) for (const name of await readdir(path)) await chownTree(join(path, name), uid, gid);
}

export async function serve(o: { config: Config; out: NodeJS.WritableStream; until?: Promise<void> }): Promise<void> {
  const { config } = o;
  const offset = Number(process.env[testPortOffsetEnv] ?? 0);
  if (offset) offsetPorts(config, offset);
  const user = config.static.user;
  const root = process.getuid?.() === 0;
  const ids = root && user ? userIds(user) : undefined;
  if (ids) {
    // Before anything opens files: what the server creates later (messages, the queue) must be writable by the user.
    await chownTree(config.paths.dataDir, ids.uid, ids.gid);
    // The config folder too: the admin page writes domains.conf (atomically: a new file in the folder) and DKIM keys, and keys are read when used.
    await chownTree(dirname(config.paths.static), ids.uid, ids.gid);
  } else if (root) log.warn('running as root: set "user" in mailcove.conf to run as an unprivileged user after binding ports');
  let requestStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  const signals = new Promise<string>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(sig));
  });
  const server = await startServer({ config, onStop: requestStop });
  try {
    if (ids) {
      process.setgroups?.([ids.gid]);
      process.setgid?.(ids.gid);
      process.setuid?.(ids.uid); // from here on no privileged port can be bound, and root's files are out of reach
      log.info({ user, uid: ids.uid }, 'dropped root privileges');
    }
    const lines = [
      `mailcove ${version()} serve`,
      `config:   ${config.paths.static} and ${config.paths.domains}`,
      `data:     ${config.paths.dataDir}`,
      ...server.smtp.addresses.map((a) => `  ${a.service.padEnd(12)} ${a.ip}:${a.port}`),
      ...server.imap.addresses.map((a) => `  ${a.service.padEnd(12)} ${a.ip}:${a.port}`),
      ...server.web.addresses.map((a) => `  web          ${a.url} ${a.surfaces.join(' ')}`),
      ...server.metrics.map((m) => `  metrics      http://${m.ip}:${m.port}/metrics`),
      'ready; stop with `mailcove stop`, SIGTERM or SIGINT',
      '',
    ];
    o.out.write(lines.join('\n'));
    const why = await Promise.race([signals, stopRequested.then(() => 'mailcove stop'), ...(o.until ? [o.until.then(() => 'until')] : [])]);
    log.info({ reason: why }, 'shutting down');
  } finally {
    await server.close();
    o.out.write('stopped\n');
  }
}

/** `mailcove stop`: asks the running server to stop and waits until it has (its control socket is gone). */
export async function stopServer(config: Config, out: NodeJS.WritableStream, timeoutMs = 120_000): Promise<void> {
  const path = controlSocketPath(config.paths.dataDir);
  const c = await ControlClient.connect(path).catch((e: unknown) => {
    throw new CommandError(e instanceof Error ? e.message : String(e));
  });
  const closed = new Promise<void>((resolve) => c.onClose(resolve));
  const r = await c.send(JSON.stringify({ op: 'stop' }));
  if (!r.ok) {
    c.close();
    throw new CommandError(r.error);
  }
  out.write('stopping\n');
  // The server closes the control connection as its last listener goes; then it finishes the queue and the store.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((_, reject) => (timer = setTimeout(() => reject(new CommandError(`server did not stop within ${timeoutMs / 1000} s`)), timeoutMs)))]).finally(() => clearTimeout(timer));
  out.write('stopped\n');
}
