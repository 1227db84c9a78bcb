// GET /metrics: the server's Prometheus metrics (metrics.ts) in the text format, at the root where scrapers look.
// A declared route like every other, so the guard checks it: readers (monitoring) and admins may read it, and a
// loopback user of a local-trust server.
import { pluginWith } from './context.js';

export const metricsRoutes = pluginWith('metrics', (r, metrics) => {
  r.add({
    method: 'GET',
    url: '/metrics',
    root: true,
    tag: 'metrics',
    summary: 'Prometheus metrics (text format 0.0.4): requests, store commits, the feed, the process',
    access: 'read',
    handler: async ({ reply }) => {
      reply.type(metrics.contentType);
      return metrics.text();
    },
  });
});
