/**
 * The few styles the terminal output uses, through `util.styleText` (Node >= 20.12). The choice of
 * colour is made once, by `shouldColour`: styleText's own stream check is switched off so that the
 * same rule holds for stdout, stderr and tests.
 */
import { styleText } from 'node:util';
import {
  TURN_STATE_ABANDONED,
  TURN_STATE_FAILED,
  TURN_STATE_IN_PROGRESS,
  TURN_STATE_INTERRUPTED,
  TURN_STATE_STUCK,
  type TurnState,
} from '@stall-why/conventions';

type Format = Parameters<typeof styleText>[0];

export interface Palette {
  readonly enabled: boolean;
  /** Red for stuck and failed, yellow for waiting, magenta for abandoned, green for done. */
  status(status: TurnState, text: string): string;
  bold(text: string): string;
  dim(text: string): string;
  /** An open phase: the part of the picture that matters. */
  open(text: string): string;
  /** A closed phase. */
  closed(text: string): string;
}

export function createPalette(enabled: boolean): Palette {
  const paint = (format: Format, text: string): string =>
    enabled && text !== '' ? styleText(format, text, { validateStream: false }) : text;
  return {
    enabled,
    status: (status, text) => paint(statusFormat(status), text),
    bold: (text) => paint('bold', text),
    dim: (text) => paint('dim', text),
    open: (text) => paint(['red', 'bold'], text),
    closed: (text) => paint('cyan', text),
  };
}

function statusFormat(status: TurnState): Format {
  switch (status) {
    case TURN_STATE_STUCK:
    case TURN_STATE_FAILED:
      return ['red', 'bold'];
    case TURN_STATE_IN_PROGRESS:
    case TURN_STATE_INTERRUPTED:
      return ['yellow', 'bold'];
    case TURN_STATE_ABANDONED:
      return ['magenta', 'bold'];
    default:
      return ['green', 'bold'];
  }
}
