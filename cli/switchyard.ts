#!/usr/bin/env -S node --import tsx
// The operators' CLI. Talks to Temporal directly (TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, SWITCHYARD_TASK_QUEUE, SWITCHYARD_CONFIG as for the
// worker), so it works when the API is down.
//
//   npm run switchyard -- breakers list
//   npm run switchyard -- breakers force <provider> open|closed|auto --reason "…" [--actor name]
//   npm run switchyard -- eval run [--task <task class>]
//   npm run switchyard -- eval report
//   npm run switchyard -- policy what-if --draft FILE [--since 24h] [--limit 1000] [--json]
//   npm run switchyard -- batch submit FILE [--wait]     (SWITCHYARD_URL, SWITCHYARD_API_KEY: through the API)
//   npm run switchyard -- batch status|results <batch id> [--errors] [--out FILE]
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { AuditTrail } from '../services/audit-trail';
import { forceBreaker } from '../services/breaker-board';
import { own } from '../common/own';
import { dataConverterFor } from '../runtime/data-converter';
import { loadConfigFile } from '../runtime/load-config';
import { readSettings } from '../runtime/settings';
import { breakerStateQuery, breakerWorkflowId } from '../workflows/breaker/provider-breaker-workflow';
import { parseSinceText } from '../common/time-window';
import { batchResults, batchStatus, gatewayClient, submitBatch } from './batch-commands';
import { connectTemporal } from '../client/connect-temporal';
import { evalReport, runEval } from './eval-commands';
import { formatWhatIf, readRecordedRequests, whatIf } from './policy-what-if';

const USAGE = `usage:
  switchyard breakers list
  switchyard breakers force <provider> open|closed|auto --reason "<why>" [--actor <name>]
  switchyard eval run [--task <task class>]
  switchyard eval report
  switchyard policy what-if --draft <config file> [--since 24h|7d|<ISO time>] [--limit 1000] [--json]
  switchyard batch submit <file.jsonl> [--wait]
  switchyard batch status <batch id>
  switchyard batch results <batch id> [--errors] [--out <file>]`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      reason: { type: 'string' },
      actor: { type: 'string' },
      task: { type: 'string' },
      draft: { type: 'string' },
      since: { type: 'string', default: '24h' },
      limit: { type: 'string', default: '1000' },
      json: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      errors: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const [group, command, provider, mode] = positionals;
  const known =
    (group === 'breakers' && (command === 'list' || command === 'force')) ||
    (group === 'eval' && (command === 'run' || command === 'report')) ||
    (group === 'policy' && command === 'what-if') ||
    (group === 'batch' && (command === 'submit' || command === 'status' || command === 'results') && provider !== undefined);
  if (values.help || !known) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  if (group === 'batch' && provider !== undefined) {
    // Batches go through the gateway's API (the files live with it), as any OpenAI client's would.
    const openai = gatewayClient(process.env);
    if (command === 'submit') return submitBatch(openai, provider, { wait: values.wait });
    if (command === 'status') return batchStatus(openai, provider);
    return batchResults(openai, provider, { errors: values.errors, ...(values.out ? { out: values.out } : {}) });
  }
  const settings = readSettings();
  const { config } = loadConfigFile(settings.configPath, settings.env);
  const { client, close } = await connectTemporal();
  try {
    if (group === 'policy') {
      const since = parseSinceText(values.since, Date.now());
      const limit = Number(values.limit);
      if (!values.draft || since === undefined || !Number.isInteger(limit) || limit < 1) {
        console.error('--draft <config file> is required; --since is 24h, 7d, 30m or an ISO time; --limit a positive integer');
        return 2;
      }
      let draft;
      try {
        draft = loadConfigFile(values.draft, settings.env);
      } catch (error) {
        console.error(`the draft is not a valid config: ${error instanceof Error ? error.message : String(error)}`);
        return 2;
      }
      const records = await readRecordedRequests(client, { since, limit, dataConverter: dataConverterFor(settings) });
      const report = whatIf(records, draft, since.toISOString());
      console.log(values.json ? JSON.stringify(report, null, 2) : formatWhatIf(report).trimEnd());
      return 0;
    }
    if (group === 'eval') {
      if (values.task !== undefined && !own(config.taskClasses, values.task)) {
        console.error(`unknown task class "${values.task}"; configured: ${Object.keys(config.taskClasses).join(', ')}`);
        return 2;
      }
      return command === 'run' ? await runEval(client, settings.taskQueue, values.task) : await evalReport(client);
    }
    if (command === 'list') {
      const rows = await Promise.all(
        Object.keys(config.providers).map(async (key) => {
          try {
            const view = await client.workflow.getHandle(breakerWorkflowId(key)).query(breakerStateQuery);
            return { provider: key, mode: view.mode, forced: view.forced, reason: view.reason, openUntil: view.openUntil, transitions: view.transitions };
          } catch (error) {
            if (error instanceof WorkflowNotFoundError) return { provider: key, mode: 'closed', forced: null, reason: 'no outcome reported yet' };
            throw error;
          }
        }),
      );
      console.log(JSON.stringify(rows, null, 2));
      return 0;
    }
    const providerConfig = provider === undefined ? undefined : own(config.providers, provider);
    if (!provider || !providerConfig) {
      console.error(`unknown provider "${provider ?? ''}"; configured: ${Object.keys(config.providers).join(', ')}`);
      return 2;
    }
    if (mode !== 'open' && mode !== 'closed' && mode !== 'auto') {
      console.error(USAGE);
      return 2;
    }
    if (!values.reason) {
      console.error('--reason is required: every switch is audited');
      return 2;
    }
    const actor = `cli:${values.actor ?? userInfo().username}`;
    const view = await forceBreaker(client, {
      taskQueue: settings.taskQueue,
      providerId: provider,
      settings: providerConfig.breaker,
      input: { mode, actor, reason: values.reason },
    });
    const trail = new AuditTrail(client, settings.taskQueue);
    trail.record({ audit: 'breaker_forced', provider, mode, actor, reason: values.reason, via: 'cli' });
    await trail.flush();
    console.log(JSON.stringify({ provider, mode: view.mode, forced: view.forced, reason: view.reason }, null, 2));
    return 0;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowFailedError) {
      // The innermost cause says what went wrong (an activity's failure inside the workflow's).
      let cause: Error = error;
      while (cause.cause instanceof Error) cause = cause.cause;
      console.error(cause.message);
      return 1;
    }
    throw error;
  } finally {
    await close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
