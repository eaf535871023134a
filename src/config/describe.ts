// `mailcove config describe`: annotated example mailcove.conf and domains.conf, generated
// from the zod schemas (field descriptions, defaults, examples), so the docs cannot drift.
import { z } from 'zod';
import { stringify } from 'yaml';
import { staticSchema } from './static.ts';
import { domainsSchema } from './domains.ts';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  example?: unknown;
  keyExample?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
}

function exampleValue(s: JsonSchema): unknown {
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined && (typeof s.default !== 'object' || Array.isArray(s.default))) return s.default;
  if (s.enum?.length) return s.enum[0];
  if (s.const !== undefined) return s.const;
  if (s.anyOf?.length) return exampleValue(s.anyOf[s.anyOf.length - 1] ?? {});
  switch (s.type) {
    case 'boolean': return false;
    case 'integer': case 'number': return 0;
    case 'array': return s.items ? [exampleValue(s.items)] : [];
    default: return '';
  }
}

function notes(s: JsonSchema, required: boolean): string[] {
  const out: string[] = [];
  if (s.description) out.push(s.description);
  const extra: string[] = [];
  if (s.enum) extra.push(`one of: ${s.enum.join(', ')}`);
  if (s.default !== undefined && (typeof s.default !== 'object' || Array.isArray(s.default))) extra.push(`default: ${JSON.stringify(s.default)}`);
  else if (!required && s.default === undefined) extra.push('optional');
  if (extra.length) out.push(`(${extra.join('; ')})`);
  return out;
}

function isObject(s: JsonSchema): boolean {
  return s.type === 'object' && (s.properties !== undefined || typeof s.additionalProperties === 'object');
}

function lines(s: JsonSchema, indent: string): string[] {
  const out: string[] = [];
  if (s.properties) {
    for (const [key, f] of Object.entries(s.properties)) {
      for (const n of notes(f, s.required?.includes(key) ?? false)) out.push(`${indent}# ${n}`);
      if (isObject(f)) {
        out.push(`${indent}${key}:`);
        out.push(...lines(f, indent + '  '));
      } else if (f.type === 'array' && f.items && isObject(f.items) && f.example === undefined) {
        out.push(`${indent}${key}:`, `${indent}  -`); // one example element, its fields below
        out.push(...lines(f.items, indent + '    '));
      } else {
        out.push(`${indent}${key}: ${stringify(exampleValue(f), { flow: true }).trimEnd()}`);
      }
    }
  } else if (typeof s.additionalProperties === 'object') {
    // A map by name: show one entry under an example name.
    const item = s.additionalProperties;
    const key = s.keyExample ?? 'name';
    if (isObject(item)) {
      out.push(`${indent}${key}:`);
      out.push(...lines(item, indent + '  '));
    } else out.push(`${indent}${key}: ${stringify(exampleValue(item), { flow: true }).trimEnd()}`);
  }
  return out;
}

function describeSchema(title: string, schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return [`# ${title}`, ...lines(json, '')].join('\n') + '\n';
}

/** Both files as annotated YAML; every field with its description, default or example. */
export function describeConfig(): string {
  return (
    describeSchema('mailcove.conf: static configuration, read at start. Relative paths are relative to its directory.', staticSchema) +
    '\n' +
    describeSchema('domains.conf: dynamic configuration, beside mailcove.conf; reloaded when it changes.', domainsSchema)
  );
}
