/** `24h`, `7d`, `30m` before `now`, or an ISO time; undefined when it is neither. */
export function parseSinceText(value: string, now: number): Date | undefined {
  const relative = /^(\d{1,6})([mhd])$/.exec(value);
  if (relative) return new Date(now - Number(relative[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd']);
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time);
}
