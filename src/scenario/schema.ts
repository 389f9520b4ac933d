/**
 * A small schema language for JSON input: each field is declared once with its type,
 * limits, default, unit and description. The same declaration validates input (every
 * problem with its JSON path, the bad value and what is allowed), fills in defaults, and
 * generates the field-by-field reference in docs/scenarios.md and, through json_schema.ts,
 * the JSON Schema editors use (docs/scenario.schema.json).
 *
 * @example
 * ```ts
 * const host = object({
 *   pcpus: integer({ min: 1, max: 4096, default: 8, doc: "physical CPUs" }),
 * });
 * const issues: Issue[] = [];
 * host.check({ pcpus: 0 }, "host", issues);
 * // issues[0] → { path: "host.pcpus", message: "expected an integer from 1 to 4096, got 0" }
 * ```
 *
 * @module
 */

/** One validation problem. */
export interface Issue {
  /** JSON path of the bad value, e.g. `guests[0].vcpus`. */
  path: string;
  /** What was expected and what was found. */
  message: string;
}

/** A documentation row for one field. */
export interface FieldDoc {
  path: string;
  type: string;
  required: boolean;
  default?: string;
  unit?: string;
  doc: string;
}

/** Common options of every field. */
export interface FieldOptions<T> {
  /** What the field means (one sentence). */
  doc: string;
  /** Value used when the field is absent; a field without a default is required. */
  default?: T;
  /** Unit of a numeric field, e.g. "GHz", "cycles". */
  unit?: string;
}

/** A declared field of type `T`. */
export abstract class Field<T> {
  readonly options: FieldOptions<T>;

  constructor(options: FieldOptions<T>) {
    this.options = options;
  }

  /** Whether input may leave this field out. */
  get required(): boolean {
    return this.options.default === undefined && !this.mayBeAbsent;
  }

  /** True for {@linkcode optional} fields: absent stays undefined. */
  get mayBeAbsent(): boolean {
    return false;
  }

  /** Short description of what is allowed, used in messages and docs. */
  abstract allowed(): string;

  /** Validates `value`; pushes issues and returns undefined when it is not acceptable. */
  abstract check(value: unknown, path: string, issues: Issue[]): T | undefined;

  /** Documentation rows for this field and any nested fields. */
  docs(path: string): FieldDoc[] {
    return [this.docRow(path)];
  }

  protected docRow(path: string): FieldDoc {
    const row: FieldDoc = {
      path,
      type: this.allowed(),
      required: this.required,
      doc: this.options.doc,
    };
    if (this.options.default !== undefined) row.default = JSON.stringify(this.options.default);
    if (this.options.unit !== undefined) row.unit = this.options.unit;
    return row;
  }

  protected fail(path: string, value: unknown, issues: Issue[]): undefined {
    const why = tooLarge(this.options as NumberOptions, value);
    issues.push({ path, message: `expected ${this.allowed()}, got ${show(value)}${why}` });
    return undefined;
  }
}

/** The type a field produces. */
export type Infer<F> = F extends Field<infer T> ? T : never;

/** Renders a value for an error message, shortened when long. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeRange(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return "";
}

/** Options of numeric fields. */
export interface NumberOptions extends FieldOptions<number> {
  min?: number;
  max?: number;
  /** Require the value to be strictly greater than `min`. */
  exclusiveMin?: boolean;
  /** Why `max` is the limit, shown with it (e.g. what the simulator keeps per page). */
  maxReason?: string;
}

/** Why a value above the maximum is refused, when the field says. */
function tooLarge(options: NumberOptions, value: unknown): string {
  const { max, maxReason } = options;
  return maxReason !== undefined && max !== undefined && typeof value === "number" && value > max
    ? ` (the limit is ${maxReason})`
    : "";
}

/** A safe integer, optionally bounded (see {@linkcode integer}). */
export class IntegerField extends Field<number> {
  declare readonly options: NumberOptions;
  allowed(): string {
    return `an integer${describeRange(this.options.min, this.options.max)}`;
  }
  check(value: unknown, path: string, issues: Issue[]): number | undefined {
    const { min, max } = this.options;
    if (
      typeof value !== "number" || !Number.isSafeInteger(value) ||
      (min !== undefined && value < min) || (max !== undefined && value > max)
    ) return this.fail(path, value, issues);
    return value;
  }
}

/** A finite number, optionally bounded (see {@linkcode number}). */
export class NumberField extends Field<number> {
  declare readonly options: NumberOptions;
  allowed(): string {
    const { min, max, exclusiveMin } = this.options;
    if (exclusiveMin === true && min !== undefined) {
      return `a number > ${min}${max !== undefined ? ` and ≤ ${max}` : ""}`;
    }
    return `a number${describeRange(min, max)}`;
  }
  check(value: unknown, path: string, issues: Issue[]): number | undefined {
    const { min, max, exclusiveMin } = this.options;
    if (
      typeof value !== "number" || !Number.isFinite(value) ||
      (min !== undefined && (exclusiveMin === true ? value <= min : value < min)) ||
      (max !== undefined && value > max)
    ) return this.fail(path, value, issues);
    return value;
  }
}

/** Options of string fields. */
export interface StringOptions extends FieldOptions<string> {
  /** Allowed characters, checked against the whole string. */
  pattern?: RegExp;
  /** Human description of the pattern, used in messages. */
  patternDoc?: string;
  maxLength?: number;
}

/** A string, optionally matching a pattern and bounded in length (see {@linkcode string}). */
export class StringField extends Field<string> {
  declare readonly options: StringOptions;
  allowed(): string {
    const { patternDoc, maxLength } = this.options;
    const limit = maxLength !== undefined ? ` of at most ${maxLength} characters` : "";
    return patternDoc !== undefined ? `${patternDoc}${limit}` : `a string${limit}`;
  }
  check(value: unknown, path: string, issues: Issue[]): string | undefined {
    const { pattern, maxLength } = this.options;
    if (
      typeof value !== "string" || (pattern !== undefined && !pattern.test(value)) ||
      (maxLength !== undefined && value.length > maxLength)
    ) return this.fail(path, value, issues);
    return value;
  }
}

/** true or false (see {@linkcode boolean}). */
export class BooleanField extends Field<boolean> {
  allowed(): string {
    return "true or false";
  }
  check(value: unknown, path: string, issues: Issue[]): boolean | undefined {
    if (typeof value !== "boolean") return this.fail(path, value, issues);
    return value;
  }
}

/** One of a fixed set of strings (see {@linkcode choice}). */
export class ChoiceField<C extends string> extends Field<C> {
  readonly choices: readonly C[];
  constructor(choices: readonly C[], options: FieldOptions<C>) {
    super(options);
    this.choices = choices;
  }
  allowed(): string {
    return `one of ${this.choices.map((c) => JSON.stringify(c)).join(", ")}`;
  }
  check(value: unknown, path: string, issues: Issue[]): C | undefined {
    if (typeof value !== "string" || !(this.choices as readonly string[]).includes(value)) {
      const hint = typeof value === "string" ? didYouMean(value, this.choices) : "";
      issues.push({ path, message: `expected ${this.allowed()}, got ${show(value)}${hint}` });
      return undefined;
    }
    return value as C;
  }
}

/** Options of list fields. */
export interface ArrayOptions<T> extends FieldOptions<T[]> {
  minItems?: number;
  maxItems?: number;
}

/** A list of items of one field (see {@linkcode array}). */
export class ArrayField<T> extends Field<T[]> {
  declare readonly options: ArrayOptions<T>;
  readonly item: Field<T>;
  constructor(item: Field<T>, options: ArrayOptions<T>) {
    super(options);
    this.item = item;
  }
  allowed(): string {
    const { minItems, maxItems } = this.options;
    const count = minItems !== undefined && maxItems !== undefined
      ? ` of ${minItems} to ${maxItems} items`
      : minItems !== undefined
      ? ` of at least ${minItems} item${minItems === 1 ? "" : "s"}`
      : maxItems !== undefined
      ? ` of at most ${maxItems} items`
      : "";
    return `a list${count}`;
  }
  check(value: unknown, path: string, issues: Issue[]): T[] | undefined {
    const { minItems, maxItems } = this.options;
    if (!Array.isArray(value)) return this.fail(path, value, issues);
    if (
      (minItems !== undefined && value.length < minItems) ||
      (maxItems !== undefined && value.length > maxItems)
    ) {
      issues.push({
        path,
        message: `expected ${this.allowed()}, got ${value.length} item${
          value.length === 1 ? "" : "s"
        }`,
      });
      return undefined;
    }
    const out: T[] = [];
    let ok = true;
    value.forEach((element, i) => {
      const checked = this.item.check(element, `${path}[${i}]`, issues);
      if (checked === undefined) ok = false;
      else out.push(checked);
    });
    return ok ? out : undefined;
  }
  override docs(path: string): FieldDoc[] {
    const rows = [this.docRow(path)];
    if (this.item instanceof ObjectField || this.item instanceof UnionField) {
      rows.push(...this.item.docs(`${path}[]`).slice(1));
    }
    return rows;
  }
}

/** A map from field names to fields. */
export type Shape = Record<string, Field<unknown>>;

/** The object type a shape produces; optional fields may be undefined. */
export type InferShape<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

/** An object with exactly the declared fields (see {@linkcode object}). */
export class ObjectField<S extends Shape> extends Field<InferShape<S>> {
  readonly shape: S;
  constructor(shape: S, options: FieldOptions<InferShape<S>>) {
    super(options);
    this.shape = shape;
  }
  allowed(): string {
    return "an object";
  }
  check(value: unknown, path: string, issues: Issue[]): InferShape<S> | undefined {
    return this.checkFields(value, path, issues, []);
  }
  /** Checks fields; `extraAllowed` names keys handled by a surrounding union. */
  checkFields(
    value: unknown,
    path: string,
    issues: Issue[],
    extraAllowed: string[],
  ): InferShape<S> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return this.fail(path, value, issues);
    }
    const record = value as Record<string, unknown>;
    const names = Object.keys(this.shape);
    let ok = true;
    for (const key of Object.keys(record)) {
      if (!Object.hasOwn(this.shape, key) && !extraAllowed.includes(key)) {
        const allowedNames = [...extraAllowed, ...names];
        issues.push({
          path: join(path, key),
          message: `unknown field; allowed: ${allowedNames.join(", ")}${
            didYouMean(key, allowedNames)
          }`,
        });
        ok = false;
      }
    }
    const out: Record<string, unknown> = {};
    for (const name of names) {
      const field = this.shape[name];
      const fieldPath = join(path, name);
      if (!Object.hasOwn(record, name) || record[name] === undefined) {
        if (field.options.default !== undefined) {
          // Defaults go through the field's own check, so an object default fills its fields.
          out[name] = field.check(structuredClone(field.options.default), fieldPath, issues);
        } else if (!field.mayBeAbsent) {
          issues.push({
            path: fieldPath,
            message: `required field is missing (expected ${field.allowed()})`,
          });
          ok = false;
        }
        continue;
      }
      const checked = field.check(record[name], fieldPath, issues);
      if (checked === undefined) ok = false;
      else out[name] = checked;
    }
    return ok ? out as InferShape<S> : undefined;
  }
  override docs(path: string): FieldDoc[] {
    const rows = [this.docRow(path)];
    for (const [name, field] of Object.entries(this.shape)) {
      rows.push(...field.docs(join(path, name)));
    }
    return rows;
  }
}

/** Variants of a tagged union: tag value → object shape. */
export type Variants = Record<string, ObjectField<Shape>>;

/** The type a union produces: each variant's object plus its tag. */
export type InferUnion<Tag extends string, V extends Variants> = {
  [K in keyof V]: { [T in Tag]: K } & Infer<V[K]>;
}[keyof V];

/** Objects told apart by a tag field (see {@linkcode union}). */
export class UnionField<Tag extends string, V extends Variants> extends Field<InferUnion<Tag, V>> {
  readonly tag: Tag;
  readonly variants: V;
  constructor(tag: Tag, variants: V, options: FieldOptions<InferUnion<Tag, V>>) {
    super(options);
    this.tag = tag;
    this.variants = variants;
  }
  allowed(): string {
    return `an object whose "${this.tag}" is one of ${
      Object.keys(this.variants).map((k) => JSON.stringify(k)).join(", ")
    }`;
  }
  check(value: unknown, path: string, issues: Issue[]): InferUnion<Tag, V> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return this.fail(path, value, issues);
    }
    const tagValue = (value as Record<string, unknown>)[this.tag];
    const kinds = Object.keys(this.variants);
    if (typeof tagValue !== "string" || !kinds.includes(tagValue)) {
      const tagPath = join(path, this.tag);
      const allowed = kinds.map((k) => JSON.stringify(k)).join(", ");
      const hint = typeof tagValue === "string" ? didYouMean(tagValue, kinds) : "";
      issues.push({
        path: tagPath,
        message: tagValue === undefined
          ? `required field is missing (expected one of ${allowed})`
          : `expected one of ${allowed}, got ${show(tagValue)}${hint}`,
      });
      return undefined;
    }
    const checked = this.variants[tagValue].checkFields(value, path, issues, [this.tag]);
    if (checked === undefined) return undefined;
    return { [this.tag]: tagValue, ...checked } as InferUnion<Tag, V>;
  }
  override docs(path: string): FieldDoc[] {
    const rows = [this.docRow(path)];
    for (const [kind, variant] of Object.entries(this.variants)) {
      rows.push({
        path: `${path}.${this.tag} = "${kind}"`,
        type: "variant",
        required: false,
        doc: variant.options.doc,
      });
      for (const [name, field] of Object.entries(variant.shape)) {
        rows.push(...field.docs(join(path, name)));
      }
    }
    return rows;
  }
}

/** A value of one field, or else of another (see {@linkcode either}). */
export class EitherField<A, B> extends Field<A | B> {
  readonly first: Field<A>;
  readonly second: Field<B>;
  constructor(first: Field<A>, second: Field<B>, options: FieldOptions<A | B>) {
    super(options);
    this.first = first;
    this.second = second;
  }
  allowed(): string {
    return `${this.first.allowed()}, or ${this.second.allowed()}`;
  }
  check(value: unknown, path: string, issues: Issue[]): A | B | undefined {
    const firstIssues: Issue[] = [];
    const a = this.first.check(value, path, firstIssues);
    if (a !== undefined) return a;
    const secondIssues: Issue[] = [];
    const b = this.second.check(value, path, secondIssues);
    if (b !== undefined) return b;
    // Report the alternative the value was shaped like (an object goes to the object form).
    const shapedLikeSecond = typeof value === "object" && value !== null &&
      !(this.first instanceof ObjectField || this.first instanceof ArrayField);
    const inner = shapedLikeSecond ? secondIssues : firstIssues;
    if (inner.length === 1 && inner[0].path === path) return this.fail(path, value, issues);
    issues.push(...inner);
    return undefined;
  }
  override docs(path: string): FieldDoc[] {
    const rows = [this.docRow(path)];
    for (const alternative of [this.first, this.second]) {
      rows.push(...alternative.docs(path).slice(1));
    }
    return rows;
  }
}

/** A field that may be absent (see {@linkcode optional}). */
export class OptionalField<T> extends Field<T | undefined> {
  readonly inner: Field<T>;
  constructor(inner: Field<T>) {
    super(inner.options);
    this.inner = inner;
  }
  override get mayBeAbsent(): boolean {
    return true;
  }
  allowed(): string {
    return this.inner.allowed();
  }
  check(value: unknown, path: string, issues: Issue[]): T | undefined {
    return this.inner.check(value, path, issues);
  }
  override docs(path: string): FieldDoc[] {
    return this.inner.docs(path).map((row, i) => i === 0 ? { ...row, required: false } : row);
  }
}

/** An object with keys from a fixed set and values of one field (see {@linkcode record}). */
export class RecordField<T> extends Field<Record<string, T>> {
  readonly keys: readonly string[];
  readonly value: Field<T>;
  readonly keyDoc: string;
  constructor(
    keys: readonly string[],
    keyDoc: string,
    value: Field<T>,
    options: FieldOptions<Record<string, T>>,
  ) {
    super(options);
    this.keys = keys;
    this.keyDoc = keyDoc;
    this.value = value;
  }
  allowed(): string {
    return `an object mapping ${this.keyDoc} to ${this.value.allowed()}`;
  }
  check(value: unknown, path: string, issues: Issue[]): Record<string, T> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return this.fail(path, value, issues);
    }
    const out: Record<string, T> = {};
    let ok = true;
    for (const [key, element] of Object.entries(value as Record<string, unknown>)) {
      const keyPath = join(path, key);
      if (!this.keys.includes(key)) {
        issues.push({
          path: keyPath,
          message: `unknown key; expected ${this.keyDoc}${didYouMean(key, this.keys)}`,
        });
        ok = false;
        continue;
      }
      const checked = this.value.check(element, keyPath, issues);
      if (checked === undefined) ok = false;
      else out[key] = checked;
    }
    return ok ? out : undefined;
  }
  override docs(path: string): FieldDoc[] {
    return [this.docRow(path), ...this.value.docs(`${path}.<${this.keyDoc}>`).slice(1)];
  }
}

/** An object whose keys come from a fixed set (described by `keyDoc`) and whose values match `value`. */
export function record<T>(
  keys: readonly string[],
  keyDoc: string,
  value: Field<T>,
  options: FieldOptions<Record<string, T>>,
): Field<Record<string, T>> {
  return new RecordField(keys, keyDoc, value, options);
}

/** A field that may be absent (it then stays undefined); for fields with no sensible default. */
export function optional<T>(field: Field<T>): Field<T | undefined> {
  return new OptionalField(field);
}

/** An integer field. */
export function integer(options: NumberOptions): Field<number> {
  return new IntegerField(options);
}

/** A finite number field. */
export function number(options: NumberOptions): Field<number> {
  return new NumberField(options);
}

/** A string field. */
export function string(options: StringOptions): Field<string> {
  return new StringField(options);
}

/** A boolean field. */
export function boolean(options: FieldOptions<boolean>): Field<boolean> {
  return new BooleanField(options);
}

/** One of a fixed set of strings. */
export function choice<const C extends string>(
  choices: readonly C[],
  options: FieldOptions<C>,
): Field<C> {
  return new ChoiceField(choices, options);
}

/** A list whose items all match `item`. */
export function array<T>(item: Field<T>, options: ArrayOptions<T>): Field<T[]> {
  return new ArrayField(item, options);
}

/**
 * An object with exactly the declared fields (unknown fields are errors). Its `default`
 * is input: `{}` means "absent is the same as an empty object", whose fields then take
 * their own defaults.
 */
export function object<S extends Shape>(
  shape: S,
  options: FieldOptions<Record<string, unknown>>,
): ObjectField<S> {
  return new ObjectField(shape, options as FieldOptions<InferShape<S>>);
}

/** Objects told apart by the string in `tag`. */
export function union<Tag extends string, V extends Variants>(
  tag: Tag,
  variants: V,
  options: FieldOptions<InferUnion<Tag, V>>,
): Field<InferUnion<Tag, V>> {
  return new UnionField(tag, variants, options);
}

/** A value matching `first`, or else `second`. */
export function either<A, B>(
  first: Field<A>,
  second: Field<B>,
  options: FieldOptions<A | B>,
): Field<A | B> {
  return new EitherField(first, second, options);
}

function join(path: string, key: string): string {
  const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  if (path === "") return segment;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${segment}]`;
}

/** " (did you mean "x"?)" when a close match exists, else "". */
export function didYouMean(input: string, candidates: readonly string[]): string {
  let best = "";
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  const limit = Math.max(1, Math.floor(best.length / 3));
  return bestDistance > 0 && bestDistance <= limit ? ` (did you mean "${best}"?)` : "";
}

/** Edit distance counting insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1, cols = b.length + 1;
  const d = Array.from(
    { length: rows },
    (_, i) => Array.from({ length: cols }, (_, j) => i || j ? (i === 0 ? j : j === 0 ? i : 0) : 0),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** Renders documentation rows as a Markdown table. */
export function docsTable(rows: FieldDoc[]): string {
  const escape = (text: string) => text.replaceAll("|", "\\|");
  const lines = [
    "| field | allowed values | default | unit | meaning |",
    "|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const fallback = row.required ? "required" : row.type === "variant" ? "" : "optional";
    lines.push(
      `| \`${escape(row.path)}\` | ${escape(row.type)} | ${escape(row.default ?? fallback)} | ${
        row.unit ?? ""
      } | ${escape(row.doc)} |`,
    );
  }
  return lines.join("\n");
}
