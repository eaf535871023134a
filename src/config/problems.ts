// Config problems: each names the file, the line (and column) in it and the dotted key,
// so `mailcove config test` output can be followed straight to the mistake. Positions
// come from the YAML document (yaml's LineCounter), never from re-scanning text.
import { parseDocument, visit, isMap, isSeq, isScalar, isPair, LineCounter, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';

/** One thing wrong with a config file. */
export interface ConfigProblem {
  file: string; // path as given to the loader
  line?: number | undefined; // 1-based; absent when the problem has no place (missing file)
  column?: number | undefined; // 1-based
  key: string; // dotted path, e.g. 'accounts.mjl.domain'; '' for the whole file
  message: string;
}

/** Thrown by loaders and edits: carries every problem found, not just the first. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

/** `domains.conf:12: accounts.mjl.domain: domain "exampel.com" not configured` */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return p.key ? `${where}: ${p.key}: ${p.message}` : `${where}: ${p.message}`;
}

/** A path into the parsed YAML value: map keys and sequence indexes. */
export type KeyPath = readonly (string | number)[];

/** A problem found before positions are known (by zod or by the reference checks). */
export interface PathIssue {
  path: KeyPath;
  message: string;
  keyNode?: boolean; // point at the key itself rather than its value (unknown keys, bad names)
}

export function dottedKey(path: KeyPath): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replaceAll('.[', '[');
}

/** A YAML file parsed for validation: the plain value plus what is needed to place problems. */
export interface ParsedYaml {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  value: unknown;
  problems: ConfigProblem[]; // syntax errors; when non-empty `value` must not be trusted
}

export function parseYaml(file: string, text: string): ParsedYaml {
  const lines = new LineCounter();
  // Keys are checked below in one pass: yaml's own uniqueKeys check is quadratic per map.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const problems: ConfigProblem[] = doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0]);
    return { file, line: pos.line, column: pos.col, key: '', message: e.message.split('\n')[0] ?? e.message };
  });
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        const at = lines.linePos(pair.key.range?.[0] ?? 0);
        const bad = seen.has(key)
          ? `key ${JSON.stringify(key)} given twice; map keys must be unique` // YAML 1.2 §3.2.1.1
          : key === '__proto__'
            ? 'the key "__proto__" is not allowed' // it would vanish (or worse) when made a JS object
            : undefined;
        if (bad) problems.push({ file, line: at.line, column: at.col, key: '', message: bad });
        seen.add(key);
      }
    },
  });
  const value = problems.length ? undefined : (doc.toJS({ maxAliasCount: 100 }) as unknown);
  return { file, doc, lines, value: value ?? {}, problems }; // an empty file is an empty map
}

/** Where a path points in the document: the deepest node found along it. */
function position(y: ParsedYaml, path: KeyPath, keyNode: boolean): { line: number; column: number } | undefined {
  let node: unknown = y.doc.contents;
  let range: [number, number, number] | null | undefined = (node as YamlNode | null)?.range;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const last = i === path.length - 1;
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      const valueRange = (pair.value as YamlNode | null)?.range;
      // Point at the key line: it is where a reader looks for "accounts.mjl.domain".
      range = last && !keyNode && valueRange && !isMap(pair.value) && !isSeq(pair.value) ? valueRange : (keyRange ?? valueRange);
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as YamlNode | undefined;
      if (!item) break;
      range = item.range ?? range;
      node = item;
    } else break;
  }
  if (!range) return undefined;
  const p = y.lines.linePos(range[0]);
  return { line: p.line, column: p.col };
}

export function placeIssue(y: ParsedYaml, issue: PathIssue): ConfigProblem {
  const pos = position(y, issue.path, issue.keyNode ?? false);
  return { file: y.file, line: pos?.line, column: pos?.column, key: dottedKey(issue.path), message: issue.message };
}

/** Zod issues as path issues: an unknown key becomes one issue per key, at that key. */
export function zodIssues(issues: readonly z.core.$ZodIssue[]): PathIssue[] {
  const out: PathIssue[] = [];
  for (const i of issues) {
    const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push({ path: [...path, k], message: `unknown key ${JSON.stringify(k)}`, keyNode: true });
    } else if (i.code === 'invalid_union' && i.errors.length) {
      // Report the branch that got furthest rather than zod's generic "invalid input".
      const best = i.errors.reduce((a, b) => (deepest(b) > deepest(a) ? b : a));
      out.push(...zodIssues(best.map((e) => ({ ...e, path: [...i.path, ...e.path] }) as z.core.$ZodIssue)));
    } else if (i.code === 'invalid_key') {
      // A record key failing its own schema (e.g. an account name): say why, at the key.
      out.push({ path, message: `invalid name: ${i.issues.map((x) => x.message).join('; ')}`, keyNode: true });
    } else out.push({ path, message: i.message.replace(/^Invalid input: /, '') });
  }
  return out;
}

function deepest(issues: readonly z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}
