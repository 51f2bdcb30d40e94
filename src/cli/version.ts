/** cygnet's version, as package.json says (kept in step by hand until a release script exists). */
export const CLI_VERSION = '0.1.0';
