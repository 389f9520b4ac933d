/**
 * Plain-text tables for the terminal.
 *
 * @module
 */

/** Column alignment. */
export type Align = "left" | "right";

/** Renders rows as an aligned table with a header row and a rule under it. */
export function table(headers: string[], rows: string[][], align?: Align[]): string {
  const widths = headers.map((header, c) =>
    Math.max(header.length, ...rows.map((row) => (row[c] ?? "").length))
  );
  const alignOf = (c: number): Align => align?.[c] ?? (c === 0 ? "left" : "right");
  const line = (cells: string[]) =>
    cells.map((cell, c) =>
      alignOf(c) === "left" ? cell.padEnd(widths[c]) : cell.padStart(widths[c])
    ).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join(
    "\n",
  );
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
