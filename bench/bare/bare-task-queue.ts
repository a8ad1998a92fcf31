/** The bare floor's task queue: its workflows and activities, and starts from another process. */
export const BARE_TASK_QUEUE = 'bench-bare';
