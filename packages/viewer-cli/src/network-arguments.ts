/** commander parsers for network options: a port to listen on, an http(s) URL to send to. */
import { InvalidArgumentError } from 'commander';

/** A port number; 0 picks a free one. */
export function portArgument(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

/** A parser for an http(s) URL whose error shows `example`. */
export function httpUrlArgument(example: string): (value: string) => string {
  return (value) => {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new InvalidArgumentError(`expected an http(s) URL, e.g. ${example}`);
    return value;
  };
}
