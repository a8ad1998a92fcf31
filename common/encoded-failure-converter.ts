// Runs in the workflow sandbox: deterministic, no I/O.
import { DefaultFailureConverter } from '@temporalio/common';

/**
 * The failure converter of a deployment with history encryption: a
 * failure's message and stack trace move into an encoded payload
 * (`encodedAttributes`), which the history codec encrypts; the stored
 * message reads "Encoded failure". Named by path (`failureConverterPath`)
 * because the workflow bundle must carry it too. Readers need the codec,
 * not this module: the default converter decodes these attributes as well.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
