// The web app's pages (contract C): home, filter builder, filter pages with live matches, the
// lists (mine, gallery), objects and the streams status. Each module registers its own routes;
// this file mounts them in one place. Register with app.register(pageRoutes, options).
import type { FastifyInstance } from 'fastify';
import type { WebOptions } from '../app.ts';
import { liveRoutes } from '../live/match-events.ts';
import { builderDataRoutes } from './builder-data.ts';
import { builderRoutes } from './filter-builder.ts';
import { filterListRoutes } from './filter-lists.ts';
import { filterPageRoutes } from './filter-page.ts';
import { homeRoutes } from './home.ts';
import { objectRoutes } from './object-pages.ts';
import { createPageServices } from './page-services.ts';
import { statusRoutes } from './status-page.ts';

export { html, raw, SafeHtml } from './html.ts';
export { renderPage, type PageContext } from './layout.ts';

export async function pageRoutes(app: FastifyInstance, options: WebOptions): Promise<void> {
  const services = createPageServices(options);
  app.addHook('onClose', async () => {
    await services.validator.close();
  });
  await homeRoutes(app, services);
  await builderRoutes(app, services);
  await builderDataRoutes(app, services);
  await filterListRoutes(app, services);
  await filterPageRoutes(app, services);
  await liveRoutes(app, services);
  await objectRoutes(app, services);
  await statusRoutes(app, services);
}
