// The schemas Nightjar knows without any registry: its own Rubin layout (lsst.v10_0, id 1000),
// which the synthetic generator writes.
import { LSST_ALERT_NAME, LSST_SCHEMA_ID, lsstAlertParsedSchema } from './lsst-schema.ts';
import { SchemaSourceError } from './errors.ts';
import type { SchemaSource } from './schema-source.ts';

export function builtinSchemas(): SchemaSource {
  const location = 'nightjar built-in schemas';
  return {
    location,
    byId(id) {
      if (id === LSST_SCHEMA_ID) return Promise.resolve(lsstAlertParsedSchema());
      return Promise.reject(new SchemaSourceError('not-found', location, id, `schema id ${id} is not built in (built in: ${LSST_SCHEMA_ID} = ${LSST_ALERT_NAME}); give --registry or --schema-dir`));
    },
    list() {
      const schema = lsstAlertParsedSchema();
      return Promise.resolve([{ id: LSST_SCHEMA_ID, name: schema.name, subject: schema.name, version: 1, text: schema.text }]);
    },
  };
}
