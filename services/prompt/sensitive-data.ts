/**
 * @packageDocumentation
 * Finds personal and secret data in prompt text and redacts it, with regular
 * expressions narrowed by check digits. Precision comes first: what is found
 * is redacted, so a false positive damages an ordinary prompt.
 *
 * - `email`: local@domain.tld (not image names such as `icon@2x.png`).
 * - `phone`: `+` international numbers of 7–15 digits (E.164) grouped by
 *   spaces, dots, dashes or an area code in parentheses; North-American
 *   `(555) 123-4567`, `555-123-4567` and `555.123.4567`.
 * - `payment_card`: 13–19 digits, plain or in groups split by one space or
 *   dash, passing Luhn, starting 3–6 or in the Mastercard 2221–2720 range.
 * - `iban`: compact or in groups of four, the registered length of a country
 *   in the IBAN registry, passing the ISO 13616 mod-97 check.
 * - `national_id`: US Social Security numbers `AAA-GG-SSSS` (never area 000,
 *   666 or 9xx, group 00 or serial 0000); UK National Insurance numbers
 *   `QQ 12 34 56 C` or `QQ123456C` (prefix letters D, F, I, U, V never, O
 *   never second, prefixes BG, GB, KN, NK, NT, TN, ZZ never, suffix A–D).
 *   Q is allowed: HMRC's own example numbers use it and are pasted as such.
 * - `secret`: `sk-` keys (OpenAI `sk-`, `sk-proj-`, Anthropic `sk-ant-`),
 *   AWS `AKIA`/`ASIA` access key ids, GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/
 *   `ghr_`/`github_pat_` tokens, Slack `xoxa-`/`xoxb-`/`xoxp-`/`xoxr-`/
 *   `xoxs-` tokens, Google `AIza` keys, JWTs, the token after `Bearer`, and
 *   PEM private key blocks (a block cut off before its END line is redacted
 *   through its last base64 line).
 *
 * Every pattern starts on a token boundary and repeats only bounded or
 * mutually exclusive character runs, so a 400,000-character prompt scans in
 * linear time. The redaction marker holds no quote or backslash and no
 * finding starts or ends inside a JSON escape, so JSON tool arguments stay
 * valid JSON.
 */
import type { CanonicalRequest, Message } from '../../common/request-schema';
import type { SensitiveDataCounts, SensitiveDataKind } from '../../common/sensitive-data-kinds';

/** One piece of sensitive data: its kind and where it is, never its value. */
export interface SensitiveDataFinding {
  kind: SensitiveDataKind;
  /** Offset of the first character. */
  start: number;
  /** Offset just past the last character. */
  end: number;
}

type Span = Omit<SensitiveDataFinding, 'kind'>;
type Detector = (text: string, into: SensitiveDataFinding[]) => void;

const detectorPatterns: RegExp[] = [];

/** A single pass of `pattern`; `accept` narrows or rejects each match (then the scan resumes one character later). */
function patternDetector(kind: SensitiveDataKind, pattern: RegExp, accept?: (match: RegExpExecArray) => Span | undefined): Detector {
  detectorPatterns.push(pattern);
  return (text, into) => {
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const span = accept ? accept(match) : whole(match);
      if (span) into.push({ kind, ...span });
      pattern.lastIndex = span ? Math.max(span.end, match.index + 1) : match.index + 1;
    }
  };
}

const raw = String.raw;
const whole = (match: RegExpExecArray): Span => ({ start: match.index, end: match.index + match[0].length });
const hasLetterAndDigit = (value: string): boolean => /[A-Za-z]/.test(value) && /\d/.test(value);

/**
 * `body` starting a token: never right after one of `characters` (a regex
 * class body) nor inside a JSON escape, yet right after an escaped `\n` or
 * `\t`, since tool arguments are JSON and values often follow a line break.
 */
function tokenPattern(characters: string, body: string, flags = 'g'): RegExp {
  return new RegExp(raw`(?<!\\)(?<![${characters}](?<!\\[nrtbf]))` + body, flags);
}

function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Card groups look like 4-4-4-4, 4-6-5 or 4-4-4-4-3. */
function isCardGrouping(groups: readonly string[]): boolean {
  if (groups.length === 1) return true;
  const [first, ...rest] = groups;
  const last = rest.pop() ?? '';
  return first?.length === 4 && rest.every((group) => group.length >= 4 && group.length <= 6) && last.length <= 6;
}

/** The longest run of leading groups that is a card, so a CVV or year after the number is left out. */
function acceptCard(match: RegExpExecArray): Span | undefined {
  const groups = match[0].split(/[ -]/);
  const separators = match[0].match(/[ -]/g) ?? [];
  for (let count = groups.length; count >= 1; count -= 1) {
    const kept = groups.slice(0, count);
    const keptSeparators = separators.slice(0, count - 1);
    const digits = kept.join('');
    if (digits.length < 13) return undefined;
    const prefix = Number(digits.slice(0, 4));
    const plausibleIssuer = digits[0] !== '2' || (prefix >= 2221 && prefix <= 2720);
    const oneSeparator = keptSeparators.every((separator) => separator === keptSeparators[0]);
    if (digits.length <= 19 && plausibleIssuer && oneSeparator && isCardGrouping(kept) && passesLuhn(digits)) {
      return { start: match.index, end: match.index + digits.length + keptSeparators.length };
    }
  }
  return undefined;
}

/**
 * A group of six or more digits ends the number (`+1 4155552671`), and E.164
 * allows 15 digits: groups after either belong to whatever follows.
 */
function acceptInternationalPhone(match: RegExpExecArray): Span | undefined {
  const longGroup = /\d{6,}/.exec(match[0]);
  let number = longGroup ? match[0].slice(0, longGroup.index + longGroup[0].length) : match[0];
  const digitCount = (value: string): number => value.replace(/\D/g, '').length;
  while (digitCount(number) > 15 && /[ .-]\d+$/.test(number)) number = number.replace(/[ .-]\d+$/, '');
  const count = digitCount(number);
  if (count < 7 || count > 15) return undefined;
  // `+3.14159265` is a signed decimal, not a number to call.
  if (/^\+\d+\.\d+$/.test(number)) return undefined;
  return { start: match.index, end: match.index + number.length };
}

/** Registered IBAN length per country (SWIFT IBAN registry). */
const IBAN_LENGTHS: ReadonlyMap<string, number> = new Map(
  ('AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 ' +
    'FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 ' +
    'MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 ' +
    'SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30')
    .split(' ')
    .map((entry) => [entry.slice(0, 2), Number(entry.slice(2))]),
);

function passesMod97(iban: string): boolean {
  let remainder = 0;
  for (const character of iban.slice(4) + iban.slice(0, 4)) {
    const value = parseInt(character, 36);
    remainder = (remainder * (value >= 10 ? 100 : 10) + value) % 97;
  }
  return remainder === 1;
}

/** Takes the country's registered length, which must end at a group boundary. */
function acceptIban(match: RegExpExecArray): Span | undefined {
  const length = IBAN_LENGTHS.get(match[0].slice(0, 2));
  if (length === undefined) return undefined;
  let end = 0;
  for (let taken = 0; taken < length; end += 1) {
    if (end === match[0].length) return undefined;
    if (match[0][end] !== ' ') taken += 1;
  }
  if (end < match[0].length && match[0][end] !== ' ') return undefined;
  return passesMod97(match[0].slice(0, end).replaceAll(' ', '')) ? { start: match.index, end: match.index + end } : undefined;
}

const UNALLOCATED_NINO_PREFIXES = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

/**
 * Only the token after `Bearer` is secret; a sentence's full stop is not part of it.
 * Trimmed by hand: `/\.+$/` retries every dot of a long run, quadratic in it.
 */
function acceptBearerToken(match: RegExpExecArray): Span | undefined {
  const value = match[0].slice(Math.max(match[0].lastIndexOf(' '), match[0].lastIndexOf('\t')) + 1);
  let tokenLength = value.length;
  while (tokenLength > 0 && value[tokenLength - 1] === '.') tokenLength -= 1;
  const token = value.slice(0, tokenLength);
  if (token.length < 16 || !hasLetterAndDigit(token)) return undefined;
  const start = match.index + match[0].length - value.length;
  return { start, end: start + token.length };
}

const PRIVATE_KEY_BEGIN = /-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;
const PRIVATE_KEY_END = /-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;
/** One base64 line of a key body, after a real or JSON-escaped line break. */
const PRIVATE_KEY_LINE = /(?:\s|\\[nr]){1,8}[A-Za-z0-9+/=]{16,}/y;
/** An 8192-bit RSA key is about 6,500 characters; an END further away belongs to something else. */
const MAX_PRIVATE_KEY_CHARS = 16_384;

/**
 * BEGIN to the first END after it, when no other BEGIN comes first; else BEGIN
 * through its base64 lines. A header with no key after it is only a mention.
 * Blocks never overlap and ENDs are found once, so the scan stays linear.
 */
function findPrivateKeys(text: string, into: SensitiveDataFinding[]): void {
  const ends = Array.from(text.matchAll(PRIVATE_KEY_END), (match) => ({ start: match.index, end: match.index + match[0].length }));
  const begins = Array.from(text.matchAll(PRIVATE_KEY_BEGIN), (match) => ({ start: match.index, end: match.index + match[0].length }));
  let nextEnd = 0;
  for (const [index, begin] of begins.entries()) {
    while ((ends[nextEnd]?.start ?? Infinity) < begin.end) nextEnd += 1;
    const end = ends[nextEnd];
    const complete =
      end !== undefined &&
      end.start < (begins[index + 1]?.start ?? Infinity) &&
      end.end - begin.start <= MAX_PRIVATE_KEY_CHARS &&
      /[A-Za-z0-9+/]{16}/.test(text.slice(begin.end, end.start));
    let blockEnd = complete ? end.end : begin.end;
    if (!complete) {
      PRIVATE_KEY_LINE.lastIndex = begin.end;
      while (PRIVATE_KEY_LINE.exec(text) !== null) blockEnd = PRIVATE_KEY_LINE.lastIndex;
    }
    if (blockEnd > begin.end) into.push({ kind: 'secret', start: begin.start, end: blockEnd });
  }
}

const DETECTORS: readonly Detector[] = [
  findPrivateKeys,
  patternDetector('secret', tokenPattern(raw`\w-`, raw`sk-[A-Za-z0-9_-]{20,}`), (match) => (hasLetterAndDigit(match[0].slice(3)) ? whole(match) : undefined)),
  patternDetector('secret', tokenPattern(raw`A-Za-z0-9`, raw`(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])`)),
  patternDetector('secret', tokenPattern(raw`\w-`, raw`(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`)),
  patternDetector('secret', tokenPattern(raw`\w-`, raw`xox[abprs]-[A-Za-z0-9-]{10,}`), (match) => (/\d/.test(match[0]) ? whole(match) : undefined)),
  patternDetector('secret', tokenPattern(raw`\w-`, raw`AIza[A-Za-z0-9_-]{35}(?![\w-])`)),
  patternDetector('secret', tokenPattern(raw`\w-`, raw`eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`)),
  patternDetector('secret', tokenPattern(raw`\w-`, raw`bearer[ \t]+[A-Za-z0-9._~+/-]{16,}=*`, 'gi'), acceptBearerToken),
  patternDetector(
    'email',
    tokenPattern(raw`\w.%+/-`, raw`\w[\w.%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![\w-])`),
    (match) => (/\.(?:png|jpe?g|gif|svg|webp|ico)$/i.test(match[0]) ? undefined : whole(match)),
  ),
  patternDetector(
    'phone',
    // Country code, an area code (in parentheses or not), then groups sharing one separator, so a second number stays apart.
    tokenPattern(raw`\w+`, raw`\+[1-9]\d{0,14}(?:[ .-]?\(\d{1,4}\)[ .-]?\d{1,14}|[ .-]\d{1,14})?(?:([ .-])\d{1,14}(?:\1\d{1,14}){0,5})?(?!\w)`),
    acceptInternationalPhone,
  ),
  patternDetector(
    'phone',
    tokenPattern(raw`\w+.-`, raw`(?:\([2-9]\d{2}\) ?\d{3}[.-]\d{4}|[2-9]\d{2}-\d{3}-\d{4}|[2-9]\d{2}\.\d{3}\.\d{4})(?![\w-]|\.\d)`),
  ),
  patternDetector('payment_card', tokenPattern(raw`\w.+-`, raw`[2-6]\d{3}(?:[ -]?\d){9,15}(?!\w|[.-]\d)`), acceptCard),
  patternDetector(
    'iban',
    tokenPattern(raw`\w`, raw`[A-Z]{2}\d{2}(?:(?: [A-Z0-9]{4}){2,8}(?: [A-Z0-9]{1,3})?|[A-Z0-9]{11,30})(?![A-Za-z0-9])`),
    acceptIban,
  ),
  patternDetector('national_id', tokenPattern(raw`\w-`, raw`(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-]|\.\d)`)),
  patternDetector(
    'national_id',
    tokenPattern(raw`A-Za-z0-9`, raw`[A-CEGHJ-TW-Z][A-CEGHJ-NP-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])`),
    (match) => (UNALLOCATED_NINO_PREFIXES.has(match[0].slice(0, 2)) ? undefined : whole(match)),
  ),
];

/**
 * Every pattern the detectors run over a whole prompt (the patterns inside
 * `accept` callbacks run on one match). A test has each checked for
 * super-linear matching.
 */
export const SCAN_PATTERNS: readonly RegExp[] = [PRIVATE_KEY_BEGIN, PRIVATE_KEY_END, PRIVATE_KEY_LINE, ...detectorPatterns];

/** Keeps the longest candidates, then the earliest, that overlap no kept one. */
function keepLongest(candidates: SensitiveDataFinding[], length: number): SensitiveDataFinding[] {
  if (candidates.length < 2) return candidates;
  // Each detector's own candidates never overlap, so marking taken characters costs a few passes over the text.
  const taken = new Uint8Array(length);
  const kept: SensitiveDataFinding[] = [];
  candidates.sort((left, right) => right.end - right.start - (left.end - left.start) || left.start - right.start);
  for (const candidate of candidates) {
    if (taken.subarray(candidate.start, candidate.end).includes(1)) continue;
    taken.fill(1, candidate.start, candidate.end);
    kept.push(candidate);
  }
  return kept;
}

/** `text` with `spans` overwritten by NUL, which matches no pattern and ends a token like a redaction marker's brackets. */
function blankOut(text: string, spans: readonly Span[]): string {
  const pieces: string[] = [];
  let cursor = 0;
  for (const { start, end } of [...spans].sort((left, right) => left.start - right.start)) {
    pieces.push(text.slice(cursor, start), '\0'.repeat(end - start));
    cursor = end;
  }
  pieces.push(text.slice(cursor));
  return pieces.join('');
}

/** Enough for chains of overlapping candidates; ordinary text needs one pass. */
const MAX_PASSES = 8;

/**
 * All findings in `text`, in order of position, never overlapping (on overlap
 * keep the longest, then the earliest). A candidate that lost an overlap is
 * looked for again with the kept findings blanked out, as redaction will
 * leave them, so redacting finds nothing more in redacted text.
 */
export function findSensitiveData(text: string): SensitiveDataFinding[] {
  const findings: SensitiveDataFinding[] = [];
  let remaining = text;
  for (let pass = 0; pass < MAX_PASSES; pass += 1) {
    const candidates: SensitiveDataFinding[] = [];
    for (const detect of DETECTORS) detect(remaining, candidates);
    const kept = keepLongest(candidates, remaining.length);
    for (const finding of kept) findings.push(finding);
    if (kept.length === candidates.length) break;
    remaining = blankOut(remaining, kept);
  }
  return findings.sort((left, right) => left.start - right.start);
}

function addCount(counts: SensitiveDataCounts, kind: SensitiveDataKind, count = 1): void {
  counts[kind] = (counts[kind] ?? 0) + count;
}

/** Replaces every finding (of `kinds`, all kinds when omitted) by `[REDACTED:<kind>]`; counts what it replaced. */
export function redactText(text: string, kinds?: ReadonlySet<SensitiveDataKind>): { text: string; counts: SensitiveDataCounts } {
  const counts: SensitiveDataCounts = {};
  const pieces: string[] = [];
  let cursor = 0;
  for (const finding of findSensitiveData(text)) {
    if (kinds && !kinds.has(finding.kind)) continue;
    pieces.push(text.slice(cursor, finding.start), `[REDACTED:${finding.kind}]`);
    cursor = finding.end;
    addCount(counts, finding.kind);
  }
  pieces.push(text.slice(cursor));
  return { text: pieces.join(''), counts };
}

/** Every text of `message` the provider receives, rewritten by `rewrite` (image URLs are not text). */
function mapMessageTexts(message: Message, rewrite: (text: string) => string): Message {
  switch (message.role) {
    case 'system':
    case 'tool':
      return { ...message, content: rewrite(message.content) };
    case 'user':
      return {
        ...message,
        content:
          typeof message.content === 'string'
            ? rewrite(message.content)
            : message.content.map((part) => (part.type === 'text' ? { ...part, text: rewrite(part.text) } : { ...part })),
      };
    case 'assistant':
      return {
        ...message,
        content: message.content === null ? null : rewrite(message.content),
        ...(message.toolCalls && { toolCalls: message.toolCalls.map((call) => ({ ...call, arguments: rewrite(call.arguments) })) }),
      };
  }
}

/** Counts findings across every text the provider would receive: each message's string content or text parts, assistant tool-call arguments, tool results. Not image URLs. */
export function scanRequest(request: Pick<CanonicalRequest, 'messages'>): SensitiveDataCounts {
  const counts: SensitiveDataCounts = {};
  const count = (text: string): string => {
    for (const finding of findSensitiveData(text)) addCount(counts, finding.kind);
    return text;
  };
  for (const message of request.messages) mapMessageTexts(message, count);
  return counts;
}

/** The same request with those texts redacted (a new object; the input is not mutated), plus the counts replaced. */
export function redactRequest<T extends Pick<CanonicalRequest, 'messages'>>(
  request: T,
  kinds?: ReadonlySet<SensitiveDataKind>,
): { request: T; counts: SensitiveDataCounts } {
  const counts: SensitiveDataCounts = {};
  const redact = (text: string): string => {
    const redacted = redactText(text, kinds);
    for (const [kind, count] of Object.entries(redacted.counts) as [SensitiveDataKind, number][]) addCount(counts, kind, count);
    return redacted.text;
  };
  return { request: { ...request, messages: request.messages.map((message) => mapMessageTexts(message, redact)) }, counts };
}
