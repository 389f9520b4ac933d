/**
 * Plain-text tables for the terminal.
 *
 * @module
 */

/** Column alignment. */
export type Align = "left" | "right";

/** Column widths and alignment of a table, to print its rows all at once or one at a time. */
export interface TableLayout {
  /** The header row and the rule under it. */
  header: string;
  /** One row in the table's columns (a cell wider than its column pushes the rest right). */
  row(cells: string[]): string;
}

/**
 * The layout of a table with these headers whose columns fit `rows`: the first column is
 * left-aligned and the others right-aligned unless `align` says otherwise. Pass every row
 * known beforehand (or rows of the widest values expected) to print rows as they come.
 *
 * @example
 * ```ts
 * const layout = tableLayout(["design", "wall"], [["vmx.io-in-kernel", "999.9 s"]]);
 * console.log(layout.header);
 * console.log(layout.row(["vmx.io-in-vmm", "1.2 s"]));
 * ```
 */
export function tableLayout(headers: string[], rows: string[][], align?: Align[]): TableLayout {
  const count = Math.max(headers.length, ...rows.map((row) => row.length));
  const widths = Array.from(
    { length: count },
    (_, c) => Math.max((headers[c] ?? "").length, ...rows.map((row) => (row[c] ?? "").length)),
  );
  const alignOf = (c: number): Align => align?.[c] ?? (c === 0 ? "left" : "right");
  const row = (cells: string[]) =>
    cells.map((cell, c) =>
      alignOf(c) === "left" ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)
    ).join("  ").trimEnd();
  return { header: `${row(headers)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`, row };
}

/** Renders rows as an aligned table with a header row and a rule under it. */
export function table(headers: string[], rows: string[][], align?: Align[]): string {
  const layout = tableLayout(headers, rows, align);
  return [layout.header, ...rows.map(layout.row)].join("\n");
}

/** Rows in aligned columns with no header (a list rather than a table), as {@linkcode table}. */
export function alignedRows(rows: string[][], align?: Align[]): string {
  const layout = tableLayout([], rows, align);
  return rows.map(layout.row).join("\n");
}

/** Columns of the widest line of `text` (each UTF-16 unit one column, as in our tables). */
export function textWidth(text: string): number {
  return Math.max(0, ...text.split("\n").map((line) => line.length));
}

/** An integer with thin grouping: 1234567 → "1,234,567". */
export function integer(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** A number with a fixed number of decimals and grouping. */
export function decimal(value: number, digits: number): string {
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A share of a total as a percentage with one decimal. */
export function percent(part: number, total: number): string {
  return total > 0 ? `${decimal((100 * part) / total, 1)}%` : "-";
}

/** A signed change against a baseline: "+3,249 (+231.6%)", or "=" when equal. */
export function delta(value: number, baseline: number, digits = 0): string {
  const change = value - baseline;
  if (change === 0) return "=";
  const sign = change > 0 ? "+" : "-";
  const amount = digits === 0 ? integer(Math.abs(change)) : decimal(Math.abs(change), digits);
  const relative = baseline !== 0
    ? ` (${sign}${decimal((100 * Math.abs(change)) / Math.abs(baseline), 1)}%)`
    : "";
  return `${sign}${amount}${relative}`;
}

/**
 * The first sentence of a description: up to the first ".", "?" or "!" followed by a capital
 * letter or the end, so that "flows.md" or "e.g. a" do not cut it. Long ones end in "…".
 */
export function firstSentence(text: string, maxChars = 160): string {
  const sentence = /^.*?[.?!](?=\s+[A-Z]|\s*$)/s.exec(text)?.[0] ?? text;
  return sentence.length <= maxChars ? sentence : `${sentence.slice(0, maxChars - 1)}…`;
}
