/**
 * Reading a JSON input file (a scenario, a profile file) the same way everywhere: a UTF-8
 * byte order mark is allowed, and every problem is one line that says where it is.
 *
 * @module
 */

/** The file's JSON, or a one-line problem (unreadable, or not valid JSON, and where). */
export type JsonFile = { ok: true; value: unknown } | { ok: false; problem: string };

/** Reads and parses `file`. */
export function readJsonFile(file: string): JsonFile {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (error) {
    return { ok: false, problem: `cannot read the file: ${describeFileError(error)}` };
  }
  return parseJsonText(text);
}

/** Parses `text` as JSON (a leading byte order mark is dropped). */
export function parseJsonText(text: string): JsonFile {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (error) {
    return { ok: false, problem: `not valid JSON: ${syntaxProblem(error, body)}` };
  }
}

/**
 * V8's message without the echo of the input it sometimes carries (which may span lines
 * or hold control characters), with a line and column when it gives a position.
 */
function syntaxProblem(error: unknown, text: string): string {
  let message = error instanceof Error ? error.message : String(error);
  message = message.replace(/, ".*" is not valid JSON$/s, "");
  const position = /at position (\d+)/.exec(message);
  if (position !== null && !/\(line \d+ column \d+\)/.test(message)) {
    const before = text.slice(0, Number(position[1]));
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    message = `${message} (line ${line} column ${column})`;
  }
  // One line, printable: the message ends up in a "path: message" list.
  return printable(message);
}

/** A file-system error in a few words. */
function describeFileError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  return printable(error instanceof Error ? error.message : String(error));
}

/** `text` with every run of control characters (newlines included) as one space. */
function printable(text: string): string {
  let out = "";
  let gap = false;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) {
      gap = true;
      continue;
    }
    if (gap && out !== "") out += " ";
    gap = false;
    out += char;
  }
  return out.trim();
}
