import express, { type RequestHandler } from 'express';
import { HttpError } from '../dialects/http-error';

/** Throws on the first byte sequence that is not UTF-8, where `TextDecoder`'s default would substitute U+FFFD. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `express.json` that refuses a body whose bytes are not valid UTF-8 (a 400,
 * as OpenAI and Anthropic answer) instead of reading them as replacement
 * characters and passing a silently altered prompt on.
 */
export function jsonBody(limit: number): RequestHandler {
  return express.json({
    limit,
    verify: (_request, _response, body, encoding) => {
      // body-parser only accepts utf-* charsets; only UTF-8 itself is decoded here.
      if (encoding.toLowerCase() !== 'utf-8') return;
      try {
        strictUtf8.decode(body);
      } catch {
        // body-parser passes an error that carries a status on as it is, so the error middleware answers it.
        throw new HttpError(400, 'invalid_request_error', 'request body is not valid UTF-8', { code: 'invalid_encoding' });
      }
    },
  });
}
