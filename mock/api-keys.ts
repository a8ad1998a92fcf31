import { z } from 'zod';

/** The wire formats whose keys the mock checks: OpenAI's `Authorization: Bearer`, Anthropic's `x-api-key`. */
export type KeyedDialect = 'openai' | 'anthropic';

/**
 * The keys the mock accepts, per dialect. A dialect with a list accepts only
 * those keys, so a gateway that looks up the wrong key (or none) is refused
 * as the vendor would refuse it; a dialect left out accepts any key.
 */
export const MockApiKeysSchema = z
  .object({
    openai: z.array(z.string().min(1)).optional(),
    anthropic: z.array(z.string().min(1)).optional(),
  })
  .strict();
export type MockApiKeys = z.infer<typeof MockApiKeysSchema>;

/**
 * A key as OpenAI echoes it in a 401 (`sk-a****wxyz`): enough to tell keys
 * apart, never the key.
 */
export function maskKey(key: string): string {
  if (key.length <= 8) return '*'.repeat(key.length);
  return `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}
