// An SVG line chart of each process's RSS over the memory bench, one line
// per process, the phases shaded: readable in a browser or a README.
import type { MemorySample } from './memory-report';

const WIDTH = 900;
const HEIGHT = 360;
const MARGIN = { left: 60, right: 140, top: 30, bottom: 40 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

export function renderRssChart(samples: readonly MemorySample[], processes: readonly string[]): string {
  const values = samples.flatMap((sample) => processes.map((name) => sample.rssMiB[name] ?? NaN)).filter(Number.isFinite);
  if (samples.length < 2 || values.length === 0) return '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40"><text x="10" y="25">no samples</text></svg>\n';
  const maxAt = samples.at(-1)!.at;
  const top = Math.ceil((Math.max(...values) * 1.1) / 50) * 50;
  const x = (at: number) => MARGIN.left + (at / maxAt) * (WIDTH - MARGIN.left - MARGIN.right);
  const y = (mib: number) => HEIGHT - MARGIN.bottom - (mib / top) * (HEIGHT - MARGIN.top - MARGIN.bottom);
  const parts: string[] = [];
  // Phases as shaded bands with their names.
  let start = 0;
  for (let index = 1; index <= samples.length; index += 1) {
    const current = samples[index];
    const previous = samples[index - 1]!;
    if (current && current.phase === previous.phase) continue;
    const from = samples[start]!.at;
    parts.push(`<rect x="${x(from).toFixed(1)}" y="${MARGIN.top}" width="${(x(previous.at) - x(from)).toFixed(1)}" height="${HEIGHT - MARGIN.top - MARGIN.bottom}" fill="${previous.phase === 'failing' ? '#fbe9e7' : '#e8f5e9'}"/>`);
    parts.push(`<text x="${(x(from) + 4).toFixed(1)}" y="${MARGIN.top + 14}" font-size="12">${previous.phase}</text>`);
    start = index;
  }
  for (let mib = 0; mib <= top; mib += top / 5) {
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(mib).toFixed(1)}" y2="${y(mib).toFixed(1)}" stroke="#ccc"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${(y(mib) + 4).toFixed(1)}" font-size="11" text-anchor="end">${Math.round(mib)}</text>`);
  }
  for (let at = 0; at <= maxAt; at += Math.max(60, Math.ceil(maxAt / 10 / 60) * 60)) {
    parts.push(`<text x="${x(at).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" font-size="11" text-anchor="middle">${Math.round(at / 60)}</text>`);
  }
  processes.forEach((name, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const points = samples
      .filter((sample) => Number.isFinite(sample.rssMiB[name]))
      .map((sample) => `${x(sample.at).toFixed(1)},${y(sample.rssMiB[name]!).toFixed(1)}`)
      .join(' ');
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points}"/>`);
    parts.push(`<text x="${WIDTH - MARGIN.right + 8}" y="${MARGIN.top + 16 + index * 18}" font-size="12" fill="${colour}">${name}</text>`);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="13">RSS (MiB) per process over the memory bench</text>`,
    ...parts,
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 6}" font-size="11" text-anchor="middle">minutes</text>`,
    '</svg>',
    '',
  ].join('\n');
}
