// What the API's route modules share: the store, the filter service, a filter validator, the
// limits and the clock.
import type { Health } from '../../pipeline/http-server.ts';
import type { PipelineMetrics } from '../../pipeline/pipeline-metrics.ts';
import type { FilterValidator } from '../../service/filter-validation.ts';
import type { FilterManager } from '../../service/types.ts';
import type { Store, StoredUser } from '../../store/store.ts';
import type { FastifyRequest } from 'fastify';
import '../auth/request-user.ts';
import type { QueryLimits } from './object-queries.ts';
import { ApiError } from './api-errors.ts';

export interface ApiContext {
  store: Store;
  filters: FilterManager;
  validator: FilterValidator;
  limits: QueryLimits;
  now: () => Date;
  metrics?: PipelineMetrics;
  health?: () => Health;
}

/** The signed-in user of a route that requires one (requireUser ran before the handler). */
export function userOf(request: FastifyRequest): StoredUser {
  if (request.user === null) throw new ApiError(401, 'sign in or send an API token (Authorization: Bearer <token>)');
  return request.user;
}
