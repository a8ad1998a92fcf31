import Ajv from 'ajv';
import type { EvalCase, EvalCheck } from '../../common/eval-schema';
import type { ModelOutput } from '../../common/response-schema';

const ajv = new Ajv({ allErrors: false, strict: false });

/** Phrases with which models decline; a refusal field or a content filter counts too. */
const REFUSAL_TEXT = /\b(I can(?:'|’)?t|I cannot|I won(?:'|’)?t|I(?:'|’)m sorry|I am sorry|I(?:'|’)m not able|I am unable|I must decline)\b/i;

/** Whether `output` passes every check of `evalCase`; the reasons it does not. */
export function scoreCase(evalCase: EvalCase, output: ModelOutput): { passed: boolean; failures: string[] } {
  const failures = evalCase.checks.map((check) => failedCheck(check, evalCase, output)).filter((reason) => reason !== undefined);
  return { passed: failures.length === 0, failures };
}

function failedCheck(check: EvalCheck, evalCase: EvalCase, output: ModelOutput): string | undefined {
  const text = (output.text ?? '').trim();
  switch (check.type) {
    case 'exact':
      return (check.caseSensitive ? text === check.value : text.toLowerCase() === check.value.toLowerCase())
        ? undefined
        : `expected exactly "${check.value}", got "${clip(text)}"`;
    case 'regex':
      return new RegExp(check.pattern, check.flags).test(text) ? undefined : `"${clip(text)}" does not match /${check.pattern}/${check.flags}`;
    case 'json_schema': {
      const schema = check.schema ?? (evalCase.output?.type === 'json_schema' ? evalCase.output.schema : { type: 'object' });
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return `not JSON: "${clip(text)}"`;
      }
      const validate = ajv.compile(schema);
      return validate(value) ? undefined : `JSON does not fit the schema: ${ajv.errorsText(validate.errors)}`;
    }
    case 'tool_call': {
      const call = output.toolCalls.find((candidate) => candidate.name === check.name);
      if (!call) return `no call of tool ${check.name}${output.toolCalls.length > 0 ? ` (called ${output.toolCalls.map((c) => c.name).join(', ')})` : ''}`;
      if (check.arguments !== undefined && !new RegExp(check.arguments).test(call.arguments)) return `${check.name} arguments ${clip(call.arguments)} do not match`;
      return undefined;
    }
    case 'refusal': {
      const refused = output.refusal !== null || output.finishReason.unified === 'content_filter' || REFUSAL_TEXT.test(text);
      if (refused === check.expected) return undefined;
      return check.expected ? `answered instead of refusing: "${clip(text)}"` : `refused: "${clip(output.refusal ?? text)}"`;
    }
  }
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
