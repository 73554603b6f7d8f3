// Schema version 5: each object's cutout images (science, template, difference) from its newest
// alert that carried any, for the web app's object page and the alerts a filter backfill
// rebuilds (src/service/stored-alert.ts). One row per object, replaced by a newer alert's
// images by the rule of the objects row (larger mjd, ties by larger source id). A table of its
// own rather than columns of `objects`: the images are ~115 KB an alert (Rubin), and the
// objects table is scanned by every filter query and rewritten in part by every batch.
//
// `encoding` says how the image columns hold the bytes: 'raw', exactly as the alert carried them
// (plain FITS for Rubin, gzip FITS for ZTF); the column lets a later version store them
// another way without a new table.

/** The statements of migration 5, in order. */
export function cutoutsSchema(): string[] {
  return [
    `CREATE TABLE object_cutouts (objectRef BIGINT PRIMARY KEY, sourceId BIGINT NOT NULL, mjd DOUBLE NOT NULL, encoding VARCHAR NOT NULL,
      science BLOB, template BLOB, difference BLOB, storedAt TIMESTAMPTZ NOT NULL)`,
  ];
}

/**
 * Schema version 6: a file store keeps the image bytes in segment files beside it
 * (cutout-segments.ts), object_cutouts where they are: encoding 'segment', the segment, the
 * position of the first image and each image's length (null where the alert had none). Rows of
 * version 5 keep their BLOBs (encoding 'raw') until a newer alert replaces them.
 */
export function cutoutLocationsSchema(): string[] {
  return [
    'ALTER TABLE object_cutouts ADD COLUMN segment INTEGER',
    'ALTER TABLE object_cutouts ADD COLUMN position BIGINT',
    'ALTER TABLE object_cutouts ADD COLUMN scienceBytes INTEGER',
    'ALTER TABLE object_cutouts ADD COLUMN templateBytes INTEGER',
    'ALTER TABLE object_cutouts ADD COLUMN differenceBytes INTEGER',
  ];
}
