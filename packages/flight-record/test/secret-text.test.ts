/** Key-like strings in messages are never recorded or shown; ordinary text and ids are left alone. */
import { redactSecrets } from '@stall-why/flight-record';
import { describe, expect, it } from 'vitest';

describe('redactSecrets', () => {
  it.each([
    ['Incorrect API key provided: sk-proj-AbCdEf0123456789AbCdEf0123456789. You can find your API key at …', 'Incorrect API key provided: sk-…[redacted]. You can find your API key at …'],
    ['auth failed: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc', 'auth failed: Bearer …[redacted]'],
    ['token ghp_0123456789abcdefghijABCDEFGHIJ012345 rejected', 'token github token …[redacted] rejected'],
    ['key AKIAABCDEFGHIJKLMNOP in url', 'key aws key …[redacted] in url'],
    // One of each remaining shape, and the case-insensitive ones in other cases: a text is scanned for
    // the patterns only when it holds one of their literals, and every pattern's literal must be found.
    ['slack xoxb-1234567890-abcdefghij said no', 'slack slack token …[redacted] said no'],
    ['google AIzaSyA0123456789abcdefghijklmnopqrstuv ok', 'google google key …[redacted] ok'],
    ['pat github_pat_0123456789abcdefghijKLMNOP used', 'pat github token …[redacted] used'],
    ['header basic dXNlcjpwYXNzd29yZDEyMzQ1Ng== sent', 'header basic …[redacted] sent'],
    ['sent BEARER abcdefghijklmnopqrstuvwxyz0123', 'sent BEARER …[redacted]'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it('leaves ordinary text, uuids and short sk- words alone', () => {
    const text = 'turn 01a20e18-aeae-7061-9f5c-2b1b8a03f3e6 failed: stream disconnected; sk-fake and task-runner ok';
    expect(redactSecrets(text)).toBe(text);
  });
});
