// One line of redis.conf or sentinel.conf built from values that reach it from config, topology
// or generated passwords. Redis splits a config line into arguments on whitespace and reads quotes
// and backslashes as quoting (sds.c sdssplitargs): a value holding any of them, or a newline,
// would change the file's structure (a second directive, an argument more). Each value must be a
// plain word, or the render fails naming it: nothing half-written reaches a server.

/** What a config argument may hold to be read back as exactly itself: no whitespace, quote, backslash or #. */
export const CONF_WORD = /^[A-Za-z0-9_.:/@+=,-]+$/;

export function confDirective(name: string, ...args: Array<string | number>): string {
  for (const arg of args) {
    if (typeof arg === "number" ? !Number.isFinite(arg) : !CONF_WORD.test(arg)) {
      throw new Error(`${name}: ${JSON.stringify(arg)} cannot be written into a Redis config file as one argument (allowed: a finite number, or letters, digits and . _ : / @ + = , -)`);
    }
  }
  return [name, ...args].join(" ");
}
