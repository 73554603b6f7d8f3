// Node 24 (V8) implements the JSON.parse source text access proposal (JSON.rawJSON and the
// reviver's context argument); TypeScript's lib does not declare it yet.
interface RawJSON { readonly rawJSON: string }
interface JSON {
  rawJSON(text: string): RawJSON;
  parse(text: string, reviver: (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown): unknown;
}
