/**
 * Converts a declaration of the schema language (schema.ts) to JSON Schema draft 2020-12,
 * so editors complete and check the files the validator reads. docs/scenario.schema.json is
 * generated this way from the scenario schema (`deno task docs`); nothing in it is written by
 * hand.
 *
 * The JSON Schema checks the structure the declaration describes: types, required fields,
 * allowed strings, numeric and length bounds, unknown fields, the workload variants. It does
 * not know the cross-field rules load.ts checks (vCPU indices within the guest, a baseline
 * among the designs, ...), so a file it accepts may still be refused when it loads. One
 * small difference: JSON Schema counts a string's length in code points, the validator in
 * UTF-16 units, so a string of emoji may pass the editor and fail to load.
 *
 * @example
 * ```ts
 * const schema = toJsonSchema(object({ pcpus: integer({ min: 1, doc: "CPUs" }) }, { doc: "A host." }));
 * // { type: "object", description: "A host.", properties: { pcpus: { type: "integer", ... } },
 * //   required: ["pcpus"], additionalProperties: false }
 * ```
 *
 * @module
 */

import {
  ArrayField,
  BooleanField,
  ChoiceField,
  EitherField,
  type Field,
  IntegerField,
  NumberField,
  ObjectField,
  OptionalField,
  RecordField,
  type Shape,
  StringField,
  UnionField,
  type Variants,
} from "./schema.ts";

/** A JSON Schema (an object of keywords). */
export type JsonSchema = { [keyword: string]: unknown };

/** The JSON Schema dialect the generated schemas declare. */
export const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";

/** Options of a whole generated schema document. */
export interface DocumentOptions {
  /** Short name shown by editors, e.g. "cvmsim scenario". */
  title: string;
  /** Where the declaration lives and how to regenerate, for the `$comment`. */
  comment: string;
}

/** A JSON Schema document for `field`, with the dialect, a title and a comment on top. */
export function jsonSchemaDocument(field: Field<unknown>, options: DocumentOptions): JsonSchema {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $comment: options.comment,
    title: options.title,
    ...toJsonSchema(field),
  };
}

/** The JSON Schema of one declared field (and everything nested in it). */
export function toJsonSchema(field: Field<unknown>): JsonSchema {
  if (field instanceof OptionalField) return toJsonSchema(field.inner);
  const schema: JsonSchema = { description: describe(field), ...typeKeywords(field) };
  if (field.options.default !== undefined) schema.default = field.options.default;
  return schema;
}

/** The keywords that say what values are allowed. */
function typeKeywords(field: Field<unknown>): JsonSchema {
  if (field instanceof IntegerField) {
    const { min, max } = field.options;
    // The validator takes safe integers only, so an unbounded side is bounded there.
    return {
      type: "integer",
      minimum: min ?? -Number.MAX_SAFE_INTEGER,
      maximum: max ?? Number.MAX_SAFE_INTEGER,
    };
  }
  if (field instanceof NumberField) {
    const { min, max, exclusiveMin } = field.options;
    const schema: JsonSchema = { type: "number" };
    if (min !== undefined) schema[exclusiveMin === true ? "exclusiveMinimum" : "minimum"] = min;
    if (max !== undefined) schema.maximum = max;
    return schema;
  }
  if (field instanceof StringField) return stringKeywords(field);
  if (field instanceof BooleanField) return { type: "boolean" };
  if (field instanceof ChoiceField) return { enum: [...field.choices] };
  if (field instanceof ArrayField) {
    const { minItems, maxItems } = field.options;
    const schema: JsonSchema = { type: "array", items: toJsonSchema(field.item) };
    if (minItems !== undefined) schema.minItems = minItems;
    if (maxItems !== undefined) schema.maxItems = maxItems;
    return schema;
  }
  if (field instanceof ObjectField) return objectKeywords(field.shape);
  if (field instanceof UnionField) return unionKeywords(field);
  if (field instanceof EitherField) {
    return { anyOf: [toJsonSchema(field.first), toJsonSchema(field.second)] };
  }
  if (field instanceof RecordField) {
    // One property per allowed key, so editors offer the keys.
    const value = toJsonSchema(field.value);
    return {
      type: "object",
      properties: Object.fromEntries(field.keys.map((key) => [key, value])),
      additionalProperties: false,
    };
  }
  throw new Error(
    `No JSON Schema for a ${field.constructor.name} (${field.allowed()}): teach ` +
      "src/scenario/json_schema.ts this kind of field",
  );
}

function stringKeywords(field: StringField): JsonSchema {
  const { pattern, patternDoc, maxLength } = field.options;
  const schema: JsonSchema = { type: "string" };
  if (pattern !== undefined) {
    if (pattern.flags !== "") {
      throw new Error(
        `Pattern /${pattern.source}/${pattern.flags} has flags JSON Schema cannot express`,
      );
    }
    schema.pattern = pattern.source;
    // VS Code shows this instead of the bare pattern when a value does not match.
    schema.patternErrorMessage = `expected ${patternDoc ?? `a string matching ${pattern}`}`;
  }
  if (maxLength !== undefined) schema.maxLength = maxLength;
  return schema;
}

/** An object with exactly `shape`'s fields (plus `extra`, already converted, first). */
function objectKeywords(shape: Shape, extra: JsonSchema = {}): JsonSchema {
  const properties: JsonSchema = { ...extra };
  for (const [name, field] of Object.entries(shape)) properties[name] = toJsonSchema(field);
  const schema: JsonSchema = { type: "object", properties };
  const required = [
    ...Object.keys(extra),
    ...Object.entries(shape).filter(([, field]) => field.required).map(([name]) => name),
  ];
  if (required.length > 0) schema.required = required;
  schema.additionalProperties = false;
  return schema;
}

/** A tagged union: the tag's values up front (for completion), then one branch per variant. */
function unionKeywords(field: UnionField<string, Variants>): JsonSchema {
  const kinds = Object.keys(field.variants);
  return {
    type: "object",
    required: [field.tag],
    properties: { [field.tag]: { enum: kinds } },
    oneOf: Object.entries(field.variants).map(([kind, variant]) => {
      const tag = { description: variant.options.doc, const: kind };
      return {
        description: variant.options.doc,
        ...objectKeywords(variant.shape, { [field.tag]: tag }),
      };
    }),
  };
}

/** The field's description, with its unit and the reason for its limit when it has them. */
function describe(field: Field<unknown>): string {
  const { doc, unit } = field.options;
  const parts = [doc];
  if (unit !== undefined) parts.push(`Unit: ${unit}.`);
  if (field instanceof IntegerField || field instanceof NumberField) {
    const { max, maxReason } = field.options;
    if (max !== undefined && maxReason !== undefined) {
      parts.push(`At most ${max}: the limit is ${maxReason}.`);
    }
  }
  return parts.join(" ");
}
