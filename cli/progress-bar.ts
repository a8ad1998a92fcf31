/**
 * Progress on stderr while a CLI waits: a bar redrawn in place on a terminal,
 * a line per tenth of the way elsewhere (CI logs stay short).
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): { update(done: number, total: number, text: string): void; finish(): void } {
  const tty = stream.isTTY === true;
  let lastTenth = -1;
  let latest: string | undefined;
  let written: string | undefined;
  return {
    update(done, total, text) {
      const fraction = total === 0 ? 0 : done / total;
      latest = text;
      if (tty) {
        const filled = Math.round(fraction * 30);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${text}   `);
      } else if (total > 0 && Math.floor(fraction * 10) > lastTenth) {
        lastTenth = Math.floor(fraction * 10);
        stream.write(`${text}\n`);
        written = text;
      }
    },
    finish() {
      if (tty) stream.write('\n');
      // The final state always shows, even when it reached no new tenth (all items done, then the job ended).
      else if (latest !== undefined && latest !== written) stream.write(`${latest}\n`);
    },
  };
}
