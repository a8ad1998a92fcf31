// `node worker/bundle-workflows.ts OUT [FAILURE_CONVERTER_PATH]`: writes the
// workflow bundle ({ code, sourceMap } as JSON) to OUT and exits; the
// long-running processes start it (see `bundleInOwnProcess`) so that they
// never load the bundler themselves.
import { writeFileSync } from 'node:fs';
import { bundleWorkflows } from './workflow-bundle';

async function main(): Promise<void> {
  const [out, failureConverterPath] = process.argv.slice(2);
  if (!out) throw new Error('usage: bundle-workflows.ts OUT [FAILURE_CONVERTER_PATH]');
  const bundle = await bundleWorkflows(failureConverterPath);
  writeFileSync(out, JSON.stringify({ code: bundle.code, sourceMap: bundle.sourceMap }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
