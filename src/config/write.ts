// Writing domains.conf: edits (edit.ts) are applied to the YAML document so comments and
// layout survive, validated as a whole before anything is written, then written atomically
// (temp file, fsync, rename, fsync of the directory). Edits of one file are serialised in-process.
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { isMap, isScalar, type Document, type YAMLMap } from 'yaml';
import { logger } from '../log/index.ts';
import { parseDomains, type Config } from './load.ts';
import { parseYaml, ConfigError } from './problems.ts';
import { domainsWritten } from './dynamic.ts';
import type { DomainsConfig } from './domains.ts';

const log = logger('config');

/**
 * Replaces a file so that readers see the old or the new content, never a mix, even after a
 * crash. The file keeps its mode unless `mode` is given; a new file is private by default.
 * With replace: false an existing file is kept and false returned (the new data is dropped).
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode?: number, o: { replace?: boolean } = {}): Promise<boolean> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  mode ??= await stat(path).then((s) => s.mode & 0o777, () => 0o600); // config may hold secrets: private by default
  const fh = await open(tmp, 'wx', mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (o.replace === false) {
      // link(2) fails when the name exists: a file that must never change (a key behind a TLSA record) is not replaced by a racing writer.
      try {
        await link(tmp, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      } finally {
        await rm(tmp, { force: true });
      }
    } else await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const dh = await open(dir, 'r'); // the new name is durable only once the directory is synced
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
  return true;
}

const queues = new Map<string, Promise<unknown>>();

function serialised<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const key = resolve(path);
  const run = (queues.get(key) ?? Promise.resolve()).then(fn, fn);
  queues.set(key, run.catch(() => undefined));
  return run;
}

/** The helper every edit goes through: read the file fresh, change the document, validate, write. */
export async function editDomains(cfg: Config, what: string, change: (doc: Document.Parsed, current: DomainsConfig) => void): Promise<DomainsConfig> {
  return serialised(cfg.paths.domains, async () => {
    const file = cfg.paths.domains;
    const y = parseYaml(file, await readFile(file, 'utf8'));
    if (y.problems.length) throw new ConfigError(y.problems);
    const before = parseDomains(file, String(y.doc));
    if (!before.ok) throw new ConfigError(before.problems); // fix the file first; an edit must not hide it
    change(y.doc, before.value);
    const text = String(y.doc);
    const after = parseDomains(file, text);
    if (!after.ok) throw new ConfigError(after.problems.map((p) => ({ ...p, message: `${p.message} (after ${what}; file not changed)` })));
    await writeFileAtomic(file, text);
    log.info({ path: file, edit: what }, 'domains.conf written');
    cfg.domains = after.value;
    domainsWritten(file, text, after.value);
    return after.value;
  });
}

export function refuse(file: string, key: string, message: string): never {
  throw new ConfigError([{ file, key, message }]);
}

/** The map at a top-level key, created (in block style) when absent. */
export function section(doc: Document.Parsed, key: 'domains' | 'accounts' | 'aliases'): YAMLMap {
  let m = doc.get(key, true);
  if (!isMap(m)) {
    m = doc.createNode({});
    doc.set(key, m);
  }
  const map = m as YAMLMap;
  map.flow = false; // '{}' in the file would otherwise make all entries inline
  return map;
}

/** The key as written in a map whose canonical form matches. */
export function findKey(map: unknown, matches: (key: string) => boolean): string | undefined {
  if (!isMap(map)) return undefined;
  for (const p of map.items) if (isScalar(p.key) && matches(String(p.key.value))) return String(p.key.value);
  return undefined;
}
