// What the page routes share: the web app's options, one filter validator (it holds a small
// DuckDB for type checks), the one-time messages, and who may see or change a filter.
import type { FastifyRequest } from 'fastify';
import { catalog as objectsCatalog, COLUMN_NOTES } from '../../features/columns.ts';
import type { Catalog } from '../../filters/catalog.ts';
import { FilterValidator } from '../../service/filter-validation.ts';
import type { StoredFilter } from '../../store/store.ts';
import type { WebOptions } from '../app.ts';
import '../auth/request-user.ts';
import { FlashMessages } from './flash.ts';
import { referencePanel } from './reference-panel.ts';
import type { SafeHtml } from './html.ts';

export interface PageServices {
  readonly options: WebOptions;
  readonly catalog: Catalog;
  readonly validator: FilterValidator;
  readonly flash: FlashMessages;
  /** The reference panel, rendered once (it only depends on the catalog). */
  readonly reference: SafeHtml;
  now(): Date;
}

export function createPageServices(options: WebOptions): PageServices {
  const catalog = objectsCatalog();
  return {
    options,
    catalog,
    validator: new FilterValidator(catalog),
    flash: new FlashMessages(),
    reference: referencePanel(catalog, COLUMN_NOTES),
    now: options.now ?? (() => new Date()),
  };
}

/** A filter id from a route parameter, or null when it is not one. */
export function filterIdParam(text: string | undefined): number | null {
  if (text === undefined || !/^[1-9]\d{0,9}$/.test(text)) return null;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : null;
}

/** The filter, if the request's user may see it (its owner, or anyone when it is public); else null. */
export async function visibleFilter(services: PageServices, request: FastifyRequest, id: number | null): Promise<StoredFilter | null> {
  if (id === null) return null;
  const filter = await services.options.store.getFilter(id);
  if (filter === null) return null;
  return filter.public || isOwner(request, filter) ? filter : null;
}

export function isOwner(request: FastifyRequest, filter: { ownerId: number }): boolean {
  return request.user !== null && request.user.id === filter.ownerId;
}
