import * as http from 'node:http';
import * as https from 'node:https';

/** The last Retry-After an endpoint asked for, as an epoch ms deadline. */
export class RetryAfterObserver {
  private untilMs = 0;

  /** When the endpoint last asked us to wait until (0: it did not). */
  retryNotBeforeMs(): number {
    return this.untilMs;
  }

  observe(statusCode: number | undefined, header: string | string[] | undefined): void {
    if (statusCode === undefined || statusCode < 400) {
      this.untilMs = 0;
      return;
    }
    const value = Array.isArray(header) ? header[0] : header;
    const ms = parseRetryAfter(value);
    if (ms !== undefined) this.untilMs = Date.now() + ms;
  }

  /**
   * An http(s).Agent factory for OTLPTraceExporter's `httpAgentOptions`. The exporter honours
   * Retry-After only within one export's timeout and then reports a bare "retryable" failure; the
   * agent lets the uploader see the header and wait that long before its next export.
   */
  agentFactory(): (protocol: string) => http.Agent {
    const observer = this;
    const hook = (req: http.ClientRequest) => {
      req.prependOnceListener('response', (res) => observer.observe(res.statusCode, res.headers['retry-after']));
    };
    // addRequest is how http.ClientRequest hands itself to its agent (stable since Node 0.x; proxy agents use it too).
    class ObservingHttpAgent extends http.Agent {
      addRequest(req: http.ClientRequest, options: unknown): void {
        hook(req);
        (http.Agent.prototype as unknown as { addRequest(r: unknown, o: unknown): void }).addRequest.call(this, req, options);
      }
    }
    class ObservingHttpsAgent extends https.Agent {
      addRequest(req: http.ClientRequest, options: unknown): void {
        hook(req);
        (https.Agent.prototype as unknown as { addRequest(r: unknown, o: unknown): void }).addRequest.call(this, req, options);
      }
    }
    return (protocol) => (protocol === 'https:' ? new ObservingHttpsAgent({ keepAlive: true }) : new ObservingHttpAgent({ keepAlive: true }));
  }
}

/** Retry-After: delay-seconds or an HTTP date; capped at an hour so a broken header cannot stop uploads for days. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, ms), 3_600_000);
}
