/** Exit codes, as ESLint has them. */
/** No turn stuck or failed. */
export const EXIT_OK = 0;
/** At least one turn stuck or failed. */
export const EXIT_PROBLEMS = 1;
/** The tool could not do its job: bad usage, unreadable input. */
export const EXIT_USAGE = 2;
