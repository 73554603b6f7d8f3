// /api/v1: the stored objects — a query in the filter language, one object with its lightcurve,
// a cone search — and the column reference the builder shows.
import { COLUMN_NOTES, OBJECT_COLUMNS } from '../../features/columns.ts';
import { allowedFunctions } from '../../filters/functions.ts';
import type { ObjectKind, Survey } from '../../formats/alert.ts';
import type { FilterDraft } from '../../service/types.ts';
import type { ObjectKey } from '../../store/store.ts';
import { userOf, type ApiContext } from './api-context.ts';
import { ApiError } from './api-errors.ts';
import { authErrors, errorSchema, objectSchema, type ApiRoute, type JsonSchema } from './api-route.ts';
import { draftProperties, limitProperty, problemsError, problemsMessage, rowsSchema } from './filters-api.ts';
import { coneSearch, runDraft } from './object-queries.ts';

export const SURVEYS: readonly Survey[] = ['lsst', 'ztf', 'elasticc', 'plasticc', 'decam', 'winter', 'rapid', 'askap'];
export const OBJECT_KINDS: readonly ObjectKind[] = ['object', 'solarSystem', 'source'];
/** Largest cone radius, arcseconds (one degree). */
export const MAX_CONE_RADIUS = 3600;
const MAX_ALERTS = 1000;

const objectParams: JsonSchema = {
  type: 'object',
  properties: {
    survey: { type: 'string', enum: [...SURVEYS], description: 'the survey the object was seen by' },
    objectId: { type: 'string', minLength: 1, maxLength: 100, description: 'as in the objects table: the diaObjectId in digits, a ZTF name, ...' },
  },
  required: ['survey', 'objectId'],
};

const objectQuery: JsonSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: [...OBJECT_KINDS], default: 'object', description: 'what objectId names' },
    alerts: { type: 'integer', minimum: 0, maximum: MAX_ALERTS, default: 100, description: 'how many of its stored alerts to list, newest first' },
  },
};

const coneQuery: JsonSchema = {
  type: 'object',
  properties: {
    ra: { type: 'number', minimum: 0, maximum: 360, description: 'right ascension of the centre, degrees (ICRS)' },
    dec: { type: 'number', minimum: -90, maximum: 90, description: 'declination of the centre, degrees' },
    radius: { type: 'number', exclusiveMinimum: 0, maximum: MAX_CONE_RADIUS, description: `radius, arcseconds (at most ${MAX_CONE_RADIUS})` },
    limit: limitProperty,
  },
  required: ['ra', 'dec', 'radius'],
};

const pointSchema: JsonSchema = { type: 'object', description: 'sourceId (64-bit, exact), mjd, band, flux, fluxErr (nJy), mag, magErr, reliability, ...' };

/** The column reference: what the builder's side panel shows. */
export function columnReference(): unknown {
  return {
    tables: [{ name: 'objects', description: 'one row per object, with features computed from its alerts', columns: OBJECT_COLUMNS.map((c) => ({ name: c.name, type: c.type, unit: c.unit, doc: c.doc })) }],
    notes: COLUMN_NOTES,
    functions: [...allowedFunctions].map(([name, f]) => ({ name, group: f.group, minArgs: f.minArgs, maxArgs: Number.isFinite(f.maxArgs) ? f.maxArgs : null, doc: f.doc })),
  };
}

export function objectRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    {
      method: 'POST',
      url: '/api/v1/query',
      tag: 'objects',
      summary: 'Query the stored objects',
      description: 'SELECT and WHERE in the filter language (the same boxes as the filter builder, checked by the same compiler), over every stored object, newest alert first, with a row limit and a time limit.',
      schema: { body: objectSchema({ select: draftProperties.select as JsonSchema, where: draftProperties.where as JsonSchema, tables: draftProperties.tables as JsonSchema, limit: limitProperty }, ['select']) },
      responses: { 200: { description: 'the rows', schema: rowsSchema }, 400: { description: 'the SELECT or WHERE has problems (box, position, message), or the query ran past its time limit', schema: problemsError }, ...authErrors() },
      handler: async (request) => {
        userOf(request);
        const { limit, ...draft } = request.body as FilterDraft & { limit?: number };
        const outcome = await runDraft(ctx.store, ctx.validator, draft, limit ?? 100, ctx.limits);
        if (outcome.problems !== undefined) throw new ApiError(400, problemsMessage(outcome.problems.length).replace('filter', 'query'), { problems: outcome.problems });
        return outcome.run;
      },
    },
    {
      method: 'GET',
      url: '/api/v1/objects/:survey/:objectId',
      tag: 'objects',
      summary: 'One object: its features, lightcurve and alerts',
      schema: { params: objectParams, querystring: objectQuery },
      responses: {
        200: {
          description: 'the object',
          schema: {
            type: 'object',
            properties: {
              key: { type: 'object' },
              object: { type: 'object', description: 'its row of the objects table (see /api/v1/columns); 64-bit ids exact' },
              lightcurve: { type: 'object', properties: { detections: { type: 'array', items: pointSchema }, forced: { type: 'array', items: pointSchema }, upperLimits: { type: 'array', items: { type: 'object' } } } },
              alerts: { type: 'array', items: { type: 'object' }, description: 'its stored alerts, newest first' },
            },
          },
        },
        404: { description: 'no such object in the store', schema: errorSchema },
        ...authErrors(),
      },
      handler: async (request) => {
        userOf(request);
        const { survey, objectId } = request.params as { survey: Survey; objectId: string };
        const query = request.query as { kind?: ObjectKind; alerts?: number };
        const key: ObjectKey = { survey, objectKind: query.kind ?? 'object', objectId };
        const object = await ctx.store.getObject(key);
        if (object === null) throw new ApiError(404, `there is no ${key.objectKind} ${objectId} of survey ${survey} in the store`, { key });
        const alertCount = query.alerts ?? 100;
        const [lightcurve, alerts] = await Promise.all([ctx.store.lightcurve(key), alertCount === 0 ? [] : ctx.store.alertsOf(key, alertCount)]);
        return { key: { survey, objectKind: key.objectKind, objectId }, object, lightcurve, alerts };
      },
    },
    {
      method: 'GET',
      url: '/api/v1/cone',
      tag: 'objects',
      summary: 'Cone search: stored objects near a position',
      description: 'Objects whose position (ra, decl of the objects table) is within the radius of (ra, dec), nearest first; separation in arcseconds.',
      schema: { querystring: coneQuery },
      responses: { 200: { description: 'the objects, nearest first', schema: { type: 'object', properties: { columns: { type: 'array', items: { type: 'string' } }, rows: { type: 'array', items: { type: 'object' } }, truncated: { type: 'boolean' }, elapsedMs: { type: 'number' } } } }, 400: { description: 'ra, dec or radius missing or out of range', schema: errorSchema }, ...authErrors() },
      handler: async (request) => {
        userOf(request);
        const { ra, dec, radius, limit } = request.query as { ra: number; dec: number; radius: number; limit?: number };
        return coneSearch(ctx.store, { ra, dec, radius }, limit ?? 100, ctx.limits);
      },
    },
    {
      method: 'GET',
      url: '/api/v1/columns',
      tag: 'reference',
      summary: 'The column reference: tables, columns, units, meanings, functions',
      auth: false,
      responses: { 200: { description: 'the objects table\'s columns (name, type, unit, doc), notes that apply to many, and the functions a filter may call', schema: { type: 'object', properties: { tables: { type: 'array', items: { type: 'object' } }, notes: { type: 'array', items: { type: 'string' } }, functions: { type: 'array', items: { type: 'object' } } } } } },
      handler: async () => columnReference(),
    },
  ];
}
