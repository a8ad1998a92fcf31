import { Router } from 'express';
import { MockApiKeysSchema } from './api-keys';
import { FaultSchema } from './fault-schema';
import type { MockState } from './mock-state';

/**
 * The control API tests and benchmarks drive the mock with (JSON in, JSON out):
 *
 * - `PUT /_control/faults/:model` sets a fault (body: `FaultSchema`; `*` = every model)
 * - `GET /_control/faults` lists faults by model
 * - `DELETE /_control/faults/:model` clears one, `DELETE /_control/faults` all
 * - `GET /_control/calls` gives `{ "<model>": count }`, `GET /_control/calls/:model`
 *   one count, `DELETE /_control/calls` resets them (and the recorded bodies)
 * - `GET /_control/requests/:model` gives `{ model, requests: [body, …] }`: the
 *   last 50 request bodies the model received, oldest first
 * - `GET /_control/held` gives `{ "held": n }`, the streams parked by a
 *   `holdStreamAfterChunks` fault; `POST /_control/release` lets them go on
 * - `PUT /_control/api-keys` sets the keys each dialect accepts (body: `MockApiKeysSchema`,
 *   e.g. `{ "openai": ["sk-…"], "anthropic": ["sk-ant-…"] }`; a dialect left out accepts any key)
 * - `POST /_control/reset` clears faults, counts and seen models, and releases parked streams
 *   (the API keys stay)
 *
 * Model names containing `/` must be URL-encoded (`%2F`).
 */
export function controlRoutes(state: MockState): Router {
  const router = Router();

  router.put('/_control/faults/:model', (request, response) => {
    const parsed = FaultSchema.safeParse(request.body);
    if (!parsed.success) {
      response.status(400).json({
        error: {
          message: `invalid fault: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`,
          issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })),
        },
      });
      return;
    }
    state.setFault(request.params.model, parsed.data);
    response.json({ model: request.params.model, fault: parsed.data });
  });
  router.get('/_control/faults', (_request, response) => {
    response.json(state.listFaults());
  });
  router.delete('/_control/faults/:model', (request, response) => {
    response.json({ model: request.params.model, cleared: state.clearFault(request.params.model) });
  });
  router.delete('/_control/faults', (_request, response) => {
    state.clearFaults();
    response.json({ cleared: true });
  });

  router.get('/_control/calls', (_request, response) => {
    response.json(state.callCounts());
  });
  router.get('/_control/calls/:model', (request, response) => {
    response.json({ model: request.params.model, calls: state.callCount(request.params.model) });
  });
  router.get('/_control/requests/:model', (request, response) => {
    response.json({ model: request.params.model, requests: state.receivedBodies(request.params.model) });
  });
  router.get('/_control/billing', (_request, response) => {
    response.json(state.billingLog());
  });
  router.delete('/_control/calls', (_request, response) => {
    state.resetCalls();
    response.json({ reset: true });
  });

  router.get('/_control/held', (_request, response) => {
    response.json({ held: state.heldStreamCount() });
  });
  router.post('/_control/release', (_request, response) => {
    response.json({ released: state.releaseStreams() });
  });

  router.put('/_control/api-keys', (request, response) => {
    const parsed = MockApiKeysSchema.safeParse(request.body);
    if (!parsed.success) {
      response.status(400).json({ error: { message: `invalid api keys: ${parsed.error.issues.map((issue) => issue.message).join('; ')}` } });
      return;
    }
    state.setApiKeys(parsed.data);
    // The keys are not echoed: the control API is as plain as the mock, but a key is still a key.
    response.json({ dialects: Object.keys(parsed.data) });
  });

  router.post('/_control/reset', (_request, response) => {
    state.reset();
    response.json({ reset: true });
  });
  return router;
}
