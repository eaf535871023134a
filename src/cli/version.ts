// The version printed by `mailcove version` and at startup: package version plus the git
// commit when run from a checkout.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const top = fileURLToPath(new URL('../../', import.meta.url));

export function version(): string {
  const pkg = JSON.parse(readFileSync(`${top}package.json`, 'utf8')) as { version: string };
  let commit = '';
  try {
    commit = execFileSync('git', ['-C', top, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a checkout (installed package): the package version alone identifies it
  }
  return commit ? `${pkg.version}+${commit}` : pkg.version;
}
