// Object features: alert history → one `objects` row per object, and the documentation of
// those columns (the filter catalog, the web app's column list, docs/columns.md).
export { featuresForBatch, newestPerObject, objectFeatures } from './compute.ts';
export type { ObjectRow, ObjectValue } from './compute.ts';
export { COLUMN_NOTES, OBJECT_COLUMNS, bandColumn, catalog, columnsMarkdown } from './columns.ts';
export type { ObjectColumn } from './columns.ts';
export { BANDS, COLOUR_PAIRS } from './bands.ts';
export type { Band } from './bands.ts';
