import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HeraldError } from '../../core/errors.js';
import { loadDashboardFiles, sendDashboardFile } from '../dashboard-files.js';

/**
 * `GET /` leads to the dashboard; `/dashboard/…` serves its built files, and index.html for any
 * other page path (the pages are drawn in the browser). Not in /openapi.json: pages, not API.
 */
export const dashboardStaticRoutes =
  (options: { dir?: string } = {}): FastifyPluginAsyncTypebox =>
  async (app) => {
    const files = loadDashboardFiles(options.dir);
    const config = { auth: 'none' } as const;
    const schema = { hide: true };

    app.get('/', { config, schema }, async (_request, reply) => reply.redirect('/dashboard/', 302));
    app.get('/dashboard', { config, schema }, async (_request, reply) => reply.redirect('/dashboard/', 302));

    app.get('/dashboard/*', { config, schema }, async (request, reply) => {
      const path = (request.params as { '*': string })['*'];
      if (path === 'api' || path.startsWith('api/')) {
        throw new HeraldError('ROUTE_NOT_FOUND', `No route for ${request.method} /dashboard/${path}`);
      }
      const index = files.get('index.html');
      if (!index) {
        throw new HeraldError(
          'DASHBOARD_NOT_BUILT',
          'The dashboard is not built: run `npm run build` (or `npm ci`), which bundles it into dist/dashboard',
        );
      }
      const file = files.get(path);
      if (file) return sendDashboardFile(request, reply, file);
      // A page of the dashboard (no file extension): the browser draws it from index.html.
      if (!/\.\w+$/.test(path)) return sendDashboardFile(request, reply, index);
      throw new HeraldError('ROUTE_NOT_FOUND', `No dashboard file ${path}`);
    });
  };
