// Public surface of the admin page (`/admin/`): its API behind the admin password, with
// sessions in memory, and the single-page app from web/admin. See DESIGN.md, Web.
import { dirname } from 'node:path';
import { apiEndpoint, frontendFiles, memorySessionBackend, Sessions, surfaceHandler, type SurfaceHandler } from '../http/index.ts';
import { recordLogin, verifyAdminPassword } from '../sasl/index.ts';
import { DataRemovals } from './accounts.ts';
import { adminApi } from './api.ts';
import type { AdminSurfaceDeps } from './method.ts';

export type { AdminSurfaceDeps } from './method.ts';
export type { AdminApi } from './api.ts';

export async function adminSurface(d: AdminSurfaceDeps): Promise<{ handler: SurfaceHandler; close(): Promise<void> }> {
  const configDir = dirname(d.config.paths.static);
  const removals = new DataRemovals(d.store, d.domains);
  // In memory: after a restart the one admin logs in again, and no admin session sits in auth.db.
  const sessions = new Sessions({ cookieName: 'mailcove-admin', backend: memorySessionBackend() });
  const api = apiEndpoint({
    surface: 'admin',
    api: adminApi(d, removals),
    sessions,
    authFailures: d.authFailures,
    // The user name is not asked for (the page sends 'admin'): there is one admin password.
    verify: async (_username, password) => ((await verifyAdminPassword(configDir, d.config.static, password)) ? 'admin' : undefined),
    onLogin: (a) => recordLogin(d.store, { username: a.username, account: '', ip: a.ip, protocol: 'web-admin', mechanism: 'password', result: a.result, tls: a.secure ? 'TLS' : '' }),
  });
  const files = await frontendFiles('admin', 'Mailcove admin');
  return {
    handler: surfaceHandler({ api, files }),
    close: async () => removals.close(),
  };
}
