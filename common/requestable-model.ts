// Runs in the workflow sandbox too: deterministic, no I/O.
import { AUTO_ROUTE } from './constants';
import { own } from './own';

/** The names a request's `model` may take, as both the config and a routing snapshot hold them. */
export interface ModelCatalog {
  models: Readonly<Record<string, unknown>>;
  routes: Readonly<Record<string, unknown>>;
  /** Absent in snapshots recorded before task classes existed. */
  taskClasses?: Readonly<Record<string, unknown>>;
}

/**
 * Whether a request may name `model`: a configured model, a route, a task
 * class, or `auto` (the default route, or the task class of its tags). The
 * one answer to "does this model exist" for the API, the explanation and the
 * workflow.
 */
export function isRequestableModel(catalog: ModelCatalog, model: string): boolean {
  return model === AUTO_ROUTE || own(catalog.models, model) !== undefined || own(catalog.routes, model) !== undefined || own(catalog.taskClasses ?? {}, model) !== undefined;
}
