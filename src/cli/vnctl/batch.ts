// `vnctl batch [FILE]`: OpenVNet's batch mode, one vnctl command per line, split into words as a shell would.
import { UsageError } from './errors.js';

/**
 * Splits one line into words like a POSIX shell without expansions: 'single quotes' are literal,
 * "double quotes" honour \" \\ \$ \`, a backslash outside quotes escapes the next character, and
 * `#` at the start of a word begins a comment. Throws UsageError on an unterminated quote.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new UsageError('unterminated single quote');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      let closed = false;
      for (i++; i < line.length; i++) {
        const d = line[i]!;
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) word += line[++i];
        else word += d;
      }
      if (!closed) throw new UsageError('unterminated double quote');
    } else if (c === '\\') {
      if (i + 1 < line.length) word += line[++i];
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** One command of a batch: its 1-based line number and its words (a leading `vnctl` dropped). */
export interface BatchLine {
  readonly line: number;
  readonly words: readonly string[];
}

/**
 * The commands of a batch text: blank and comment lines skipped, a trailing backslash continues
 * the line, and a leading `vnctl` word is dropped so lines copied from docs run as they are.
 */
export function batchLines(text: string): BatchLine[] {
  const out: BatchLine[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const start = i;
    let line = raw[i]!;
    while (/(^|[^\\])(\\\\)*\\\r?$/.test(line) && i + 1 < raw.length) line = line.replace(/\\\r?$/, ' ') + raw[++i];
    let words: string[];
    try {
      words = splitWords(line);
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(`line ${start + 1}: ${e.message}`);
      throw e;
    }
    if (words[0] === 'vnctl') words.shift();
    if (words.length > 0) out.push({ line: start + 1, words });
  }
  return out;
}
