import type { ConfirmableRemoval } from '../common/config-schema';
import type { ConfigChangeSummary } from './config-diff';
import type { LoadedConfig } from './load-config';

/** What a reload would take away that the new file must name in `confirmRemoval`. */
export interface RemovalCheck {
  /** Sections the file in force wrote and the new one drops (with effect), and `tenantKeys` when no tenant key is left; sorted. */
  removals: ConfirmableRemoval[];
  /** Of `removals`, those `confirmRemoval` does not name: the reload is refused unless this is empty. */
  unconfirmed: ConfirmableRemoval[];
}

/** What a removal means, where the name alone does not say it. */
const CONSEQUENCES: Partial<Record<ConfirmableRemoval, string>> = {
  admin: 'every admin key: /admin would answer 401',
  tenantKeys: 'every tenant key: every request would answer 401',
};

/**
 * A file cut short (a deploy tool or editor writing it in pieces) still
 * validates when it ends after a required section, and would silently drop
 * the admin key, budgets or sensitivity rules. So a reload may remove a whole
 * section, or the last tenant key, only when the new file says so. A section
 * dropped without effect (it only held defaults) is no removal.
 */
export function checkRemovals(previous: LoadedConfig, next: LoadedConfig, summary: ConfigChangeSummary): RemovalCheck {
  const kept = new Set(next.sections);
  const changed = new Set(summary.sections);
  const removals = previous.sections.filter(
    (section): section is ConfirmableRemoval => section !== 'confirmRemoval' && !kept.has(section) && changed.has(section),
  );
  if (tenantKeyCount(previous) > 0 && tenantKeyCount(next) === 0) removals.push('tenantKeys');
  removals.sort();
  const confirmed = new Set(next.config.confirmRemoval ?? []);
  return { removals, unconfirmed: removals.filter((removal) => !confirmed.has(removal)) };
}

/** The `config_rejected` error for a refused removal: what would vanish, and how to confirm it. */
export function describeRefusal(path: string, check: RemovalCheck): string {
  const named = (removal: ConfirmableRemoval): string => {
    const consequence = CONSEQUENCES[removal];
    return consequence === undefined ? removal : `${removal} (${consequence})`;
  };
  const confirmedAlready = check.removals.filter((removal) => !check.unconfirmed.includes(removal));
  return [
    `config file ${path} would remove ${check.unconfirmed.map(named).join(', ')} from the config in force;`,
    'a file still being written looks like this, so the config in force stays.',
    confirmedAlready.length > 0 ? `confirmRemoval names ${confirmedAlready.join(', ')} but not ${check.unconfirmed.join(', ')}.` : '',
    `If the removal is intended, add to the file: confirmRemoval: [${check.removals.join(', ')}]`,
  ]
    .filter((part) => part.length > 0)
    .join(' ');
}

function tenantKeyCount(loaded: LoadedConfig): number {
  return Object.values(loaded.config.tenants).reduce((count, tenant) => count + tenant.keySha256.length, 0);
}
