// Loading both config files: YAML -> zod schema (defaults, unknown keys, types) ->
// reference checks -> canonical config, with every problem placed at file:line.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { parseYaml, placeIssue, zodIssues, ConfigError, type ConfigProblem, type ParsedYaml, type PathIssue } from './problems.ts';
import { staticSchema, type StaticConfig } from './static.ts';
import { domainsSchema, type DomainsConfig } from './domains.ts';
import { checkDomains, checkStatic } from './references.ts';

export interface ConfigPaths {
  static: string; // mailcove.conf as given
  domains: string; // domains.conf beside it
  dataDir: string; // absolute
}

/** Both files, validated. `domains` is replaced by edits made through this object. */
export interface Config {
  static: StaticConfig;
  domains: DomainsConfig;
  paths: ConfigPaths;
}

type Parsed<T> = { ok: true; value: T; yaml: ParsedYaml } | { ok: false; problems: ConfigProblem[] };

function validate<S extends z.ZodType, T>(file: string, text: string, schema: S, refs: (v: z.output<S>) => { issues: PathIssue[]; value: T }): Parsed<T> {
  const y = parseYaml(file, text);
  if (y.problems.length) return { ok: false, problems: y.problems };
  const r = schema.safeParse(y.value);
  if (!r.success) return { ok: false, problems: zodIssues(r.error.issues).map((i) => placeIssue(y, i)) };
  const { issues, value } = refs(r.data);
  if (issues.length) return { ok: false, problems: issues.map((i) => placeIssue(y, i)) };
  return { ok: true, value, yaml: y };
}

export function parseStatic(file: string, text: string): Parsed<StaticConfig> {
  return validate(file, text, staticSchema, (v) => ({ issues: checkStatic(v), value: v }));
}

export function parseDomains(file: string, text: string): Parsed<DomainsConfig> {
  return validate(file, text, domainsSchema, (v) => {
    const { issues, config } = checkDomains(v);
    return { issues, value: config };
  });
}

/** A file named in the config (certFile, privateKeyFile...): relative paths are relative to the config directory. */
export function configFilePath(cfg: Config, file: string): string {
  return resolve(dirname(cfg.paths.static), file);
}

/** domains.conf lives beside mailcove.conf. */
export function domainsPath(staticPath: string): string {
  return join(dirname(staticPath), 'domains.conf');
}

async function readText(file: string): Promise<{ text: string } | { problems: ConfigProblem[] }> {
  try {
    return { text: await readFile(file, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { problems: [{ file, key: '', message: code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message}` }] };
  }
}

async function loadBoth(staticPath: string): Promise<{ problems: ConfigProblem[]; config?: Config }> {
  const dPath = domainsPath(staticPath);
  const [st, dt] = await Promise.all([readText(staticPath), readText(dPath)]);
  const s = 'text' in st ? parseStatic(staticPath, st.text) : ({ ok: false, problems: st.problems } as const);
  const d = 'text' in dt ? parseDomains(dPath, dt.text) : ({ ok: false, problems: dt.problems } as const);
  const problems = [...(s.ok ? [] : s.problems), ...(d.ok ? [] : d.problems)];
  if (!s.ok || !d.ok) return { problems };
  const dataDir = resolve(dirname(staticPath), s.value.dataDir);
  return { problems, config: { static: s.value, domains: d.value, paths: { static: staticPath, domains: dPath, dataDir } } };
}

/** Reads and validates mailcove.conf and the domains.conf beside it; throws ConfigError listing every problem. */
export async function loadConfig(staticPath: string): Promise<Config> {
  const { problems, config } = await loadBoth(staticPath);
  if (!config) throw new ConfigError(problems);
  return config;
}

/** For `mailcove config test`: every problem in both files; empty when the config is good. */
export async function checkConfig(staticPath: string): Promise<ConfigProblem[]> {
  return (await loadBoth(staticPath)).problems;
}
