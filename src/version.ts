/** The tool's version (--version, provenance's builder version). */
export const VERSION = '0.1.0';
