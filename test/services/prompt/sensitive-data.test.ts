import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkSync } from 'recheck';
import ts from 'typescript';
import { SCAN_PATTERNS, findSensitiveData, redactRequest, redactText, scanRequest } from '../../../services/prompt/sensitive-data';
import type { CanonicalRequest } from '../../../common/request-schema';
import type { SensitiveDataKind } from '../../../common/sensitive-data-kinds';

// Fake credentials, assembled from pieces so secret scanners do not flag this file.
const OPENAI_KEY = ['sk', 'proj', 'Xy7Qm2LpR4vT9wZb3NcK8dHf_Jq5'].join('-');
const ANTHROPIC_KEY = ['sk', 'ant', 'api03', 'Zq4Wm8Rt2Yp6Lk0Jh3Gf7Ds1Ax5'].join('-');
const AWS_KEY_ID = 'AKIA' + 'IOSFODNN7EXAMPLE';
const GITHUB_TOKEN = 'ghp' + '_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
const GITHUB_FINE_GRAINED_TOKEN = 'github' + '_pat_' + '11ABCDEFG0123456789_abcdefghijKLMNOPQRST';
const SLACK_TOKEN = 'xoxb' + '-' + '1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
const GOOGLE_KEY = 'AIza' + 'SyA1b2C3d4E5f6G7h8I9j0K-l1M2n3O4p5Q';
const JWT = [
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9',
  'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ',
  'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
].join('.');
const BEARER_TOKEN = '8f3kD92jslQ0xZ7vB1nM';
const PRIVATE_KEY = [
  '-----BEGIN RSA ' + 'PRIVATE KEY-----',
  'MIIEowIBAAKCAQEAvJ8mN3xQ2rT5uW7yZ9aB1cD3eF5gH7iJ9kL1mN3oP5qR7sT9',
  'uV1wX3yZ5aB7cD9eF1gH3iJ5kL7mN9oP1qR3sT5uV7wX9yZ1aB3cD5eF7gH9iJ1k==',
  '-----END RSA ' + 'PRIVATE KEY-----',
].join('\n');

const detected: { name: string; text: string; value: string; kind: SensitiveDataKind }[] = [
  { name: 'an email address', text: 'Please write to jane.doe+billing@example.co.uk before Friday.', value: 'jane.doe+billing@example.co.uk', kind: 'email' },
  { name: 'an email address after mailto:', text: 'Link: mailto:sam_lee@corp.example.com', value: 'sam_lee@corp.example.com', kind: 'email' },
  { name: 'a UK number in international format', text: 'Call me on +44 20 7946 0958 after lunch.', value: '+44 20 7946 0958', kind: 'phone' },
  { name: 'a US number with its area code in parentheses', text: 'Our US desk is +1 (415) 555-2671.', value: '+1 (415) 555-2671', kind: 'phone' },
  { name: 'a compact E.164 number', text: 'Text +14155552671 when you land.', value: '+14155552671', kind: 'phone' },
  { name: 'an international number with mixed separators', text: 'Dial +1 555-123-4567 now', value: '+1 555-123-4567', kind: 'phone' },
  { name: 'a North-American number in parentheses', text: 'The office number is (555) 123-4567.', value: '(555) 123-4567', kind: 'phone' },
  { name: 'a North-American number with dashes', text: 'Reach him at 555-123-4567 on weekdays.', value: '555-123-4567', kind: 'phone' },
  { name: 'a Visa number in groups of four', text: 'My card is 4111 1111 1111 1111, expiry 12/27.', value: '4111 1111 1111 1111', kind: 'payment_card' },
  { name: 'a Mastercard number with dashes', text: 'Charge 5555-5555-5555-4444 please.', value: '5555-5555-5555-4444', kind: 'payment_card' },
  { name: 'a 2-series Mastercard number', text: 'Test card 2223000048400011 works.', value: '2223000048400011', kind: 'payment_card' },
  { name: 'an Amex number without spaces', text: 'Amex 378282246310005 was declined.', value: '378282246310005', kind: 'payment_card' },
  { name: 'a card number without the CVV after it', text: 'card 4012 8888 8888 1881 737', value: '4012 8888 8888 1881', kind: 'payment_card' },
  { name: 'a German IBAN in groups', text: 'Please wire it to DE89 3704 0044 0532 0130 00 by Monday.', value: 'DE89 3704 0044 0532 0130 00', kind: 'iban' },
  { name: 'a British IBAN written compact', text: 'IBAN: GB82WEST12345698765432.', value: 'GB82WEST12345698765432', kind: 'iban' },
  { name: 'a French IBAN with letters in its account', text: 'RIB FR14 2004 1010 0505 0001 3M02 606 (joint)', value: 'FR14 2004 1010 0505 0001 3M02 606', kind: 'iban' },
  { name: 'a US Social Security number', text: 'Her SSN is 123-45-6789.', value: '123-45-6789', kind: 'national_id' },
  { name: 'a UK National Insurance number with spaces', text: 'NI number QQ 12 34 56 C is on the payslip.', value: 'QQ 12 34 56 C', kind: 'national_id' },
  { name: 'a UK National Insurance number written compact', text: 'NINO: AB123456C', value: 'AB123456C', kind: 'national_id' },
  { name: 'an OpenAI project key', text: `OPENAI_API_KEY=${OPENAI_KEY}`, value: OPENAI_KEY, kind: 'secret' },
  { name: 'an Anthropic key', text: `export ANTHROPIC_API_KEY="${ANTHROPIC_KEY}"`, value: ANTHROPIC_KEY, kind: 'secret' },
  { name: 'an AWS access key id', text: `aws_access_key_id = ${AWS_KEY_ID}`, value: AWS_KEY_ID, kind: 'secret' },
  { name: 'a GitHub token in a clone URL', text: `git clone https://${GITHUB_TOKEN}@github.com/acme/app.git`, value: GITHUB_TOKEN, kind: 'secret' },
  { name: 'a fine-grained GitHub token', text: `token: ${GITHUB_FINE_GRAINED_TOKEN}`, value: GITHUB_FINE_GRAINED_TOKEN, kind: 'secret' },
  { name: 'a Slack bot token', text: `SLACK_BOT_TOKEN=${SLACK_TOKEN}`, value: SLACK_TOKEN, kind: 'secret' },
  { name: 'a Google API key', text: `const mapsKey = '${GOOGLE_KEY}';`, value: GOOGLE_KEY, kind: 'secret' },
  { name: 'a JWT', text: `Cookie: session=${JWT}; Path=/`, value: JWT, kind: 'secret' },
  { name: 'the token after Bearer', text: `curl -H "Authorization: Bearer ${BEARER_TOKEN}" https://api.example.com`, value: BEARER_TOKEN, kind: 'secret' },
  { name: 'a PEM private key block', text: `Here is the key:\n${PRIVATE_KEY}\nWhy does ssh reject it?`, value: PRIVATE_KEY, kind: 'secret' },
  {
    name: 'a private key cut off before its END line',
    text: `${PRIVATE_KEY.split('\n').slice(0, 3).join('\n')}\nit stops here`,
    value: PRIVATE_KEY.split('\n').slice(0, 3).join('\n'),
    kind: 'secret',
  },
];

for (const row of detected) {
  test(`finds ${row.name} and redacts exactly it`, () => {
    const start = row.text.indexOf(row.value);
    assert.notEqual(start, -1);
    assert.deepEqual(findSensitiveData(row.text), [{ kind: row.kind, start, end: start + row.value.length }]);
    const redacted = redactText(row.text);
    assert.equal(redacted.text, row.text.slice(0, start) + `[REDACTED:${row.kind}]` + row.text.slice(start + row.value.length));
    assert.deepEqual(redacted.counts, { [row.kind]: 1 });
  });
}

test('a sentence with several kinds yields each at its exact offsets', () => {
  const text = 'Mail bob@example.org, call 555-123-4567, pay 4111 1111 1111 1111.';
  assert.deepEqual(findSensitiveData(text), [
    { kind: 'email', start: 5, end: 20 },
    { kind: 'phone', start: 27, end: 39 },
    { kind: 'payment_card', start: 45, end: 64 },
  ]);
  assert.deepEqual(redactText(text), {
    text: 'Mail [REDACTED:email], call [REDACTED:phone], pay [REDACTED:payment_card].',
    counts: { email: 1, phone: 1, payment_card: 1 },
  });
});

const ordinary: { name: string; text: string }[] = [
  { name: 'Luhn-invalid 16-digit numbers', text: 'Card 4111 1111 1111 1112 and 5555555555554445 were rejected.' },
  { name: 'an IBAN with wrong check digits', text: 'IBAN DE88 3704 0044 0532 0130 00 bounced; so did GB83WEST12345698765432.' },
  { name: 'dates', text: 'Due 2024-01-15, then 15/01/2024, 01.02.2024 and 2024-01-15T10:30:00+05:30.' },
  { name: 'times', text: 'Meet at 10:30:45 or 23:59 UTC, the job took 00:12:07.123.' },
  { name: 'prices', text: 'It costs $1,299.99, €4.500,00 or USD 12,345,678.90 (+5% VAT, +3.14159265 delta).' },
  { name: 'order and invoice numbers', text: 'Order #100234987, invoice INV-2024-000123, ticket 4521-88, ref 20240115103045.' },
  { name: 'UUIDs', text: 'ids 123e4567-e89b-12d3-a456-426614174000 and 550e8400-e29b-41d4-a716-446655440000' },
  { name: 'sha256 and git hashes', text: 'sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, commit 9fceb02d0ae598e95dc970b74767f19372d61af8' },
  { name: 'version strings', text: 'Upgrade from v1.2.3 to 10.0.19045.3803, node 20.11.1, lodash@4.17.21, 1.0.0-beta.2.' },
  { name: 'timestamps', text: 'Epoch 1700000000, in ms 1700000000000, logged 2024-01-15 10:30:45.123456.' },
  { name: 'other numbers', text: 'Host 192.168.1.100, ISBN 978-3-16-148410-0, ZIP 94105-1234, pi 3.14159265358979, 1,234,567 rows.' },
  {
    name: 'ordinary English text',
    text: 'The quarterly report is attached. Revenue grew 12% to 4.5 million, and the team shipped 37 features. Use a Bearer token in the header; sk-learn-style estimators and icon@2x.png assets are fine.',
  },
  { name: 'a private key header mentioned in prose', text: 'The file must start with -----BEGIN PRIVATE KEY----- on its own line.' },
  { name: 'invalid Social Security and National Insurance numbers', text: '000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567, 123-45-0000, BG123456A, DA123456A, AB123456E' },
];

for (const row of ordinary) {
  test(`finds nothing in ${row.name}`, () => {
    assert.deepEqual(findSensitiveData(row.text), []);
    assert.deepEqual(redactText(row.text), { text: row.text, counts: {} });
  });
}

test('an international number is one finding, not a shorter local one inside it', () => {
  assert.deepEqual(findSensitiveData('+1 (415) 555-2671 555-123-4567'), [
    { kind: 'phone', start: 0, end: 17 },
    { kind: 'phone', start: 18, end: 30 },
  ]);
});

test('redacting only some kinds leaves the others in place', () => {
  const text = `Reply to ann@example.com with card 4111 1111 1111 1111 and key ${OPENAI_KEY}.`;
  assert.deepEqual(redactText(text, new Set<SensitiveDataKind>(['email', 'secret'])), {
    text: 'Reply to [REDACTED:email] with card 4111 1111 1111 1111 and key [REDACTED:secret].',
    counts: { email: 1, secret: 1 },
  });
});

test('values right after an escaped line break in JSON are found, and the JSON stays valid', () => {
  const json = JSON.stringify({ note: 'Hi,\njane@example.com\n4111111111111111\n' + PRIVATE_KEY });
  const redacted = redactText(json);
  assert.deepEqual(redacted.counts, { email: 1, payment_card: 1, secret: 1 });
  assert.deepEqual(JSON.parse(redacted.text), { note: 'Hi,\n[REDACTED:email]\n[REDACTED:payment_card]\n[REDACTED:secret]' });
});

function supportRequest(): CanonicalRequest {
  return {
    requestId: 'req-1',
    tenantId: 'acme',
    model: 'default',
    sampling: { temperature: 0.2 },
    tags: { sensitivity: 'internal' },
    messages: [
      { role: 'system', content: 'You are a support agent. Escalations go to ops@example.com.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'My card 4111 1111 1111 1111 was charged twice.' },
          { type: 'image_url', url: 'https://example.com/receipt.png?contact=jane@example.com' },
        ],
      },
      {
        role: 'assistant',
        content: null,
        toolCalls: [{ id: 'call_1', name: 'lookup_customer', arguments: JSON.stringify({ email: 'jane.doe@example.com', phone: '+44 20 7946 0958' }) }],
      },
      { role: 'tool', toolCallId: 'call_1', content: JSON.stringify({ iban: 'DE89 3704 0044 0532 0130 00', note: 'VIP\nSSN 123-45-6789' }) },
      { role: 'assistant', content: 'I found your account.' },
      { role: 'user', content: `Thanks! My key is ${OPENAI_KEY}` },
    ],
  };
}

test('scanning a request counts every text the provider receives, but not image URLs', () => {
  assert.deepEqual(scanRequest(supportRequest()), { email: 2, payment_card: 1, phone: 1, iban: 1, national_id: 1, secret: 1 });
});

test('redacting a request rewrites every text, leaves images alone and does not touch the input', () => {
  const request = supportRequest();
  const { request: redacted, counts } = redactRequest(request);
  assert.deepEqual(request, supportRequest());
  assert.deepEqual(counts, { email: 2, payment_card: 1, phone: 1, iban: 1, national_id: 1, secret: 1 });
  assert.deepEqual(redacted, {
    ...supportRequest(),
    messages: [
      { role: 'system', content: 'You are a support agent. Escalations go to [REDACTED:email].' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'My card [REDACTED:payment_card] was charged twice.' },
          { type: 'image_url', url: 'https://example.com/receipt.png?contact=jane@example.com' },
        ],
      },
      {
        role: 'assistant',
        content: null,
        toolCalls: [{ id: 'call_1', name: 'lookup_customer', arguments: '{"email":"[REDACTED:email]","phone":"[REDACTED:phone]"}' }],
      },
      { role: 'tool', toolCallId: 'call_1', content: '{"iban":"[REDACTED:iban]","note":"VIP\\nSSN [REDACTED:national_id]"}' },
      { role: 'assistant', content: 'I found your account.' },
      { role: 'user', content: 'Thanks! My key is [REDACTED:secret]' },
    ],
  });
  assert.deepEqual(scanRequest(redacted), {});
});

test('redacting a request for some kinds counts only those', () => {
  const { request, counts } = redactRequest(supportRequest(), new Set<SensitiveDataKind>(['secret', 'iban']));
  assert.deepEqual(counts, { iban: 1, secret: 1 });
  assert.deepEqual(scanRequest(request), { email: 2, payment_card: 1, phone: 1, national_id: 1 });
});

/** Every regular expression literal in the scanner's source, including those run inside `accept` callbacks. */
function regularExpressionLiterals(path: string): RegExp[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
  const found: RegExp[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isRegularExpressionLiteral(node)) {
      const slash = node.text.lastIndexOf('/');
      found.push(new RegExp(node.text.slice(1, slash), node.text.slice(slash + 1)));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

// recheck runs each pattern in a step-counting matcher, on strings it grows to
// make matching work grow faster than their length (and, where the pattern
// allows, proves it from the automaton). It counts steps, not time, and with a
// fixed seed and every timeout off (only step limits) it answers the same on a
// busy machine.
const STEP_COUNTED = { randomSeed: 18, timeout: null, attackTimeout: null, incubationTimeout: null, seedingTimeout: null } as const;

test('every pattern the scanner runs matches in linear time, by step count', () => {
  const scannerPath = resolve(__dirname, '../../../services/prompt/sensitive-data.ts');
  const patterns = new Map<string, RegExp>();
  for (const pattern of [...SCAN_PATTERNS, ...regularExpressionLiterals(scannerPath)]) patterns.set(`/${pattern.source}/${pattern.flags}`, pattern);
  assert.ok(SCAN_PATTERNS.length >= 17, 'the detectors register their patterns');
  const superLinear = [...patterns.values()].flatMap((pattern) => {
    const diagnostics = checkSync(pattern.source, pattern.flags, STEP_COUNTED);
    return diagnostics.status === 'safe'
      ? []
      : [`/${pattern.source}/${pattern.flags}: ${diagnostics.status}${diagnostics.status === 'vulnerable' ? `, ${diagnostics.complexity.summary}, attack ${diagnostics.attack.pattern}` : ''}`];
  });
  assert.deepEqual(superLinear, []);
});

/** Appends the Luhn check digit to `partial`. */
function withLuhnCheckDigit(partial: string): string {
  let sum = 0;
  for (let index = 0; index < partial.length; index += 1) {
    let digit = Number(partial[partial.length - 1 - index]);
    if (index % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return partial + String((10 - (sum % 10)) % 10);
}

const cardNumber = fc
  .record({
    issuer: fc.integer({ min: 3, max: 6 }),
    body: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 11, maxLength: 17 }),
    separator: fc.constantFrom('', ' ', '-'),
  })
  .map(({ issuer, body, separator }) => {
    const digits = withLuhnCheckDigit(`${issuer}${body.join('')}`);
    return separator === '' ? digits : (digits.match(/.{1,4}/g) ?? []).join(separator);
  });
const asciiProse = fc.string({ unit: 'binary-ascii', maxLength: 60 });
const sampleValues = detected.map((row) => row.value);
const promptText = fc
  .array(fc.oneof(asciiProse, fc.constantFrom(...sampleValues), cardNumber), { maxLength: 8 })
  .map((parts) => parts.join(' '));
const runs = { numRuns: 200 };

test('any Luhn-valid card number in prose is found and redacted', () => {
  // Prose before the card does not end in a digit: "+1 4111…" would honestly read as a phone number.
  const before = asciiProse.map((prose) => prose.replace(/\d+$/, ''));
  fc.assert(
    fc.property(before, cardNumber, asciiProse, (prefix, card, suffix) => {
      const text = `${prefix} ${card} ${suffix}`;
      const start = prefix.length + 1;
      // A digit after the card may extend it: `… 1079 2` can itself be a valid 17-digit number.
      const covering = findSensitiveData(text).filter((finding) => finding.start === start && finding.end >= start + card.length);
      assert.deepEqual(covering.map((finding) => finding.kind), ['payment_card']);
      assert.ok(!redactText(text).text.includes(card));
    }),
    runs,
  );
});

test('redacting twice changes nothing more', () => {
  fc.assert(
    fc.property(promptText, (text) => {
      const once = redactText(text);
      assert.deepEqual(findSensitiveData(once.text), []);
      assert.deepEqual(redactText(once.text), { text: once.text, counts: {} });
    }),
    runs,
  );
});

test('findings are sorted, non-empty and never overlap', () => {
  fc.assert(
    fc.property(promptText, (text) => {
      const findings = findSensitiveData(text);
      for (const [index, finding] of findings.entries()) {
        assert.ok(finding.start < finding.end && finding.end <= text.length);
        const previous = findings[index - 1];
        if (previous) assert.ok(previous.end <= finding.start);
      }
    }),
    runs,
  );
});

test('arbitrary strings never throw', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary' }), promptText), (text) => {
      const { counts } = redactText(text);
      assert.equal(
        Object.values(counts).reduce((sum, count) => sum + count, 0),
        findSensitiveData(text).length,
      );
    }),
    runs,
  );
});
