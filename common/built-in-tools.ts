// The agent tools the gateway itself provides: their definitions, as models see them.
import type { Tool } from './request-schema';

/** Tools every agent run may use, besides the config's HTTP tools. */
export const BUILT_IN_TOOLS: Record<string, Tool> = {
  calculator: {
    name: 'calculator',
    description: 'Evaluates an arithmetic expression: numbers, + - * / % ( ) and decimals.',
    parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
  },
  current_time: {
    name: 'current_time',
    description: 'The current date and time (UTC, ISO 8601).',
    parameters: { type: 'object', properties: {} },
  },
};

/** The tool the workflow answers itself: the run waits for a person's input (a signal). */
export const ASK_HUMAN_TOOL: Tool = {
  name: 'ask_human',
  description: 'Asks a person a question and waits for the answer.',
  parameters: { type: 'object', properties: { question: { type: 'string' } }, required: ['question'] },
};
