/** The CLI's version, as `stall-why --version` prints it and the Chrome export records it. */
export const VERSION = '0.1.0';
