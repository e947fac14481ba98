// A tiny JSON Schema (2020-12) checker for the keywords docs/seed.schema.json uses, so a test can hold
// the schema and the CLI's own seed checks to the same rules without a dependency. It refuses a schema
// that uses any other keyword, so the schema cannot grow past what is checked here.
type Schema = Record<string, unknown>;

const KNOWN = new Set(['$schema', '$id', '$defs', '$ref', 'title', 'description', 'default', 'type', 'enum', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'uniqueItems', 'contains', 'const', 'minLength', 'oneOf']);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** The JSON paths where `value` breaks `schema` (empty when it conforms). */
export function schemaErrors(root: Schema, value: unknown): string[] {
  const check = (schema: Schema, v: unknown, path: string, errors: string[]): void => {
    for (const key of Object.keys(schema)) if (!KNOWN.has(key)) throw new Error(`schema keyword "${key}" at ${path} is not supported by the checker`);
    if (typeof schema.$ref === 'string') {
      const name = schema.$ref.replace('#/$defs/', '');
      check((root.$defs as Record<string, Schema>)[name]!, v, path, errors);
    }
    if (schema.type !== undefined && typeOf(v) !== schema.type) return void errors.push(`${path}: must be ${String(schema.type)}`);
    if (Array.isArray(schema.enum) && !schema.enum.includes(v)) errors.push(`${path}: must be one of ${schema.enum.join(', ')}`);
    if ('const' in schema && v !== schema.const) errors.push(`${path}: must be ${JSON.stringify(schema.const)}`);
    if (Array.isArray(schema.oneOf)) {
      const matching = (schema.oneOf as Schema[]).filter((option) => {
        const own: string[] = [];
        check(option, v, path, own);
        return own.length === 0;
      });
      if (matching.length !== 1) errors.push(`${path}: must match exactly one of oneOf`);
    }
    if (typeof v === 'string' && typeof schema.minLength === 'number' && v.length < schema.minLength) errors.push(`${path}: too short`);
    if (Array.isArray(v)) {
      if (typeof schema.minItems === 'number' && v.length < schema.minItems) errors.push(`${path}: too few items`);
      if (typeof schema.maxItems === 'number' && v.length > schema.maxItems) errors.push(`${path}: too many items`);
      if (schema.uniqueItems === true && new Set(v.map((item) => JSON.stringify(item))).size !== v.length) errors.push(`${path}: items not unique`);
      if (schema.contains !== undefined && !v.some((item) => {
        const own: string[] = [];
        check(schema.contains as Schema, item, path, own);
        return own.length === 0;
      })) errors.push(`${path}: contains no matching item`);
      if (schema.items !== undefined) v.forEach((item, i) => check(schema.items as Schema, item, `${path}[${i}]`, errors));
    }
    if (typeOf(v) === 'object') {
      const record = v as Record<string, unknown>;
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      for (const key of (schema.required ?? []) as string[]) if (record[key] === undefined) errors.push(`${path}.${key}: is required`);
      for (const [key, item] of Object.entries(record)) {
        if (properties[key] !== undefined) check(properties[key], item, `${path}.${key}`, errors);
        else if (schema.additionalProperties === false) errors.push(`${path}.${key}: is not allowed`);
      }
    }
  };
  const errors: string[] = [];
  check(root, value, '$', errors);
  return errors;
}
