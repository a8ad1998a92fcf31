// Runs in the workflow sandbox: deterministic, no I/O.

/**
 * Kinds of personal and secret data the gateway detects in prompts. Config
 * names them to say how far each raises a request's sensitivity class.
 */
export const SENSITIVE_DATA_KINDS = ['email', 'phone', 'payment_card', 'iban', 'national_id', 'secret'] as const;
export type SensitiveDataKind = (typeof SENSITIVE_DATA_KINDS)[number];

/** How many of each kind a request holds (kinds not found are absent). Never the values. */
export type SensitiveDataCounts = Partial<Record<SensitiveDataKind, number>>;
