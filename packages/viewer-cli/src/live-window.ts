/**
 * The bounds of what a live view keeps, in a module without imports: `stall-why watch` defines its
 * options with them without loading the classifier (the CLI's start-up, issue 14).
 */

/** Default window of ended turns a live view keeps. */
export const DEFAULT_LIVE_WINDOW_MS = 15 * 60_000;
/** Most ended turns kept, the most recent first, however busy the window was: a screen shows far fewer. */
export const DEFAULT_LIVE_MAX_ENDED_TURNS = 200;
