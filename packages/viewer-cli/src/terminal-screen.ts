/**
 * The alternate screen for `stall-why watch` on a TTY: entered once, redrawn in place, and always
 * left (cursor shown again) on Ctrl-C, SIGTERM or exit, so the terminal is as it was.
 */

const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME_CLEAR = '\x1b[H\x1b[2J';

export class TerminalScreen {
  private active = false;
  private readonly onExit = (): void => this.leave();

  constructor(private readonly stream: NodeJS.WriteStream) {}

  enter(): void {
    if (this.active) return;
    this.active = true;
    this.stream.write(ENTER);
    process.on('exit', this.onExit);
  }

  /** Replaces the screen's content with these lines. */
  draw(lines: readonly string[]): void {
    this.stream.write(`${HOME_CLEAR}${lines.join('\n')}`);
  }

  leave(): void {
    if (!this.active) return;
    this.active = false;
    process.off('exit', this.onExit);
    this.stream.write(LEAVE);
  }
}
