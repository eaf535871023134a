// The live domains.conf: reloaded when the file changes, so accounts and addresses can be
// edited without a restart. A broken edit keeps the previous config live and is logged;
// edits made through write.ts are seen at once, without waiting for the file watcher.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { logger } from '../log/index.ts';
import { counter } from '../metrics/index.ts';
import { parseDomains, type Config } from './load.ts';
import { formatProblem, type ConfigProblem } from './problems.ts';
import type { DomainsConfig } from './domains.ts';

const log = logger('config');
const reloads = counter<'result'>('mailcove_config_reloads_total', 'Reloads of domains.conf after a change, by result.', ['result'], [{ result: 'ok' }, { result: 'error' }]);

export type DomainsListener = (domains: DomainsConfig) => void;

// Live holders by absolute domains.conf path, so writes can hand them the new content.
const live = new Map<string, Set<DynamicConfig>>();

/** Called after an atomic write of domains.conf through this module. */
export function domainsWritten(path: string, text: string, domains: DomainsConfig): void {
  for (const d of live.get(resolve(path)) ?? []) d.accept(text, domains);
}

export interface WatchOptions {
  debounceMs?: number; // editors write in several steps; wait for quiet (default 200)
}

export class DynamicConfig {
  readonly path: string;
  #current: DomainsConfig;
  #text: string | undefined; // content of the version in #current, to skip no-op events
  #problems: ConfigProblem[] = [];
  #listeners = new Set<DomainsListener>();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounceMs: number;
  #reloading: Promise<void> = Promise.resolve();

  constructor(config: Config, o: WatchOptions = {}) {
    this.path = resolve(config.paths.domains);
    this.#current = config.domains;
    this.#debounceMs = o.debounceMs ?? 200;
    // Watch the directory, not the file: editors and our own writes replace the file by rename.
    this.#watcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
      if (name === null || name === basename(this.path)) this.#schedule();
    });
    this.#watcher.on('error', (err) => log.error({ err, path: this.path }, 'watching domains.conf failed; changes need a restart'));
    let set = live.get(this.path);
    if (!set) live.set(this.path, (set = new Set()));
    set.add(this);
    // The file may have changed between loading and watching.
    this.#schedule();
  }

  /** The domains config in force now. */
  current(): DomainsConfig {
    return this.#current;
  }

  /** Problems of the newest file version when it was refused (the old config stays live); empty when it is in force. */
  problems(): readonly ConfigProblem[] {
    return this.#problems;
  }

  /** Calls fn with each new config; returns the unsubscribe function. */
  subscribe(fn: DomainsListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Reads the file now (normally done by the watcher); resolves when done. */
  reload(): Promise<void> {
    // Unexpected errors are logged here: a reload runs from a timer, nobody else would see them.
    this.#reloading = this.#reloading.then(() => this.#reload()).catch((err: unknown) => log.error({ err, path: this.path }, 'reloading domains.conf failed; keeping the current config'));
    return this.#reloading;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
    live.get(this.path)?.delete(this);
    if (live.get(this.path)?.size === 0) live.delete(this.path);
  }

  /** @internal A validated version written through this module. */
  accept(text: string, domains: DomainsConfig): void {
    this.#text = text;
    this.#set(domains);
  }

  #schedule(): void {
    if (!this.#watcher) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(), this.#debounceMs);
    this.#timer.unref();
  }

  async #reload(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      // Between an editor's unlink and its new file; the next event brings the new one.
      log.warn({ err, path: this.path }, 'cannot read domains.conf; keeping the current config');
      return;
    }
    if (text === this.#text) return;
    this.#text = text;
    const r = parseDomains(this.path, text);
    if (!r.ok) {
      this.#problems = r.problems;
      reloads.inc({ result: 'error' });
      log.error({ path: this.path, problems: r.problems.map(formatProblem) }, 'domains.conf changed but is not valid; keeping the previous config');
      return;
    }
    reloads.inc({ result: 'ok' });
    // The first check after start finds the loaded version again: only real changes are news.
    if (this.#set(r.value)) log.info({ path: this.path }, 'domains.conf reloaded');
  }

  /** Puts a validated version in force; true when it differs from the previous one. */
  #set(domains: DomainsConfig): boolean {
    this.#problems = [];
    const same = JSON.stringify(domains) === JSON.stringify(this.#current); // e.g. a comment edit
    this.#current = domains;
    if (same) return false;
    for (const fn of this.#listeners) {
      try {
        fn(domains);
      } catch (err) {
        log.error({ err }, 'domains.conf change listener failed');
      }
    }
    return true;
  }
}

/** Starts watching domains.conf of a loaded config; call close() when done. */
export function watchDomains(config: Config, onChange?: DomainsListener, o: WatchOptions = {}): DynamicConfig {
  const d = new DynamicConfig(config, o);
  if (onChange) d.subscribe(onChange);
  return d;
}
