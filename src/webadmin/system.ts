// Admin methods about the server itself: the overview (version, uptime, host name, counts),
// login attempts across accounts (from auth.db), and log levels per module, changed live.
import { z } from 'zod';
import { getLevels, levels, modules, setLevel, type Level } from '../log/index.ts';
import type { LoginAttempt } from '../store/index.ts';
import { adminMethod, type AdminSurfaceDeps } from './method.ts';

export interface Overview {
  version: string;
  hostname: string;
  startedAt: string; // ISO 8601
  uptimeSeconds: number;
  counts: { domains: number; accounts: number; aliases: number; queued?: number; held?: number }; // queue counts when the queue runs
}

export function systemMethods(d: AdminSurfaceDeps) {
  return {
    overview: adminMethod(z.object({}), async (): Promise<Overview> => {
      const c = d.domains();
      const queue = d.queue ? await d.store.queue.counts() : undefined; // two counts in SQL, not the whole queue read to count it
      return {
        version: d.version,
        hostname: d.config.static.hostname,
        startedAt: d.startedAt.toISOString(),
        uptimeSeconds: Math.floor((Date.now() - d.startedAt.getTime()) / 1000),
        counts: {
          domains: Object.keys(c.domains).length,
          accounts: Object.keys(c.accounts).length,
          aliases: Object.keys(c.aliases).length,
          ...(queue ? { queued: queue.queued, held: queue.held } : {}),
        },
      };
    }),

    /** Newest first; page back with `before` = the last id shown. Failed logins include unknown user names (account ''). */
    loginAttempts: adminMethod(
      z.object({ account: z.string().trim().max(64).optional().transform((s) => s || undefined), limit: z.int().min(1).max(500).default(50), before: z.int().positive().optional() }),
      async ({ account, limit, before }): Promise<{ attempts: LoginAttempt[]; more: boolean }> => {
        const rows = await d.store.auth.listLoginAttempts({ ...(account !== undefined ? { account } : {}), limit: limit + 1, ...(before !== undefined ? { before } : {}) });
        return { attempts: rows.slice(0, limit), more: rows.length > limit };
      },
    ),

    /** The default level (module '') and each module's own; modules lists those with a logger so far. */
    logLevels: adminMethod(z.object({}), (): { levels: Record<string, Level>; modules: string[]; choices: readonly Level[] } => ({ levels: getLevels(), modules: modules(), choices: levels })),

    /** Module '' sets the default for all modules without their own level. Until a restart: then logLevel and moduleLogLevels of mailcove.conf apply again. */
    logLevelSet: adminMethod(z.object({ module: z.string().regex(/^[a-z0-9-]{0,32}$/, 'a module name is lowercase letters, digits and hyphens'), level: z.enum(levels as [Level, ...Level[]]) }), ({ module, level }) => {
      setLevel(module, level);
      return { levels: getLevels() };
    }),
  };
}
