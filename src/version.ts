/** @module version — the OpenCTS release (the API document, `--version`, the open formats). */
export const OPENCTS_VERSION = '0.1.0'
