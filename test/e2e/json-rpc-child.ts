import type { ChildProcessWithoutNullStreams } from 'node:child_process';

export interface JsonRpcMessage {
  id?: number | string;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: any };
}

/**
 * The client side of a JSON-RPC conversation over a child's stdio, one message a line, the way a UI
 * drives an agent: requests with ids, notifications, and the child's own requests (approvals,
 * permissions) that the test answers or leaves open. Every message both ways is kept with its time.
 * The Codex app-server suite and the ACP agents suite both talk through it.
 */
export class JsonRpcChild {
  readonly messages: Array<{ atMs: number; dir: 'in' | 'out'; msg: JsonRpcMessage }> = [];
  stderr = '';
  protected child!: ChildProcessWithoutNullStreams;
  private nextId = 1;
  private readonly pending = new Map<number | string, (m: JsonRpcMessage) => void>();
  private readonly listeners = new Set<() => void>();

  /** Reads the child's stdout as JSON-RPC lines and its stderr as text. */
  protected attach(child: ChildProcessWithoutNullStreams): void {
    this.child = child;
    child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString()));
    let buffered = '';
    child.stdout.on('data', (c: Buffer) => {
      buffered += c.toString();
      let nl = buffered.indexOf('\n');
      while (nl !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) this.receive(JSON.parse(line) as JsonRpcMessage);
        nl = buffered.indexOf('\n');
      }
    });
  }

  request(method: string, params?: unknown, timeoutMs = 60_000): Promise<any> {
    return this.requestMessage(method, params, timeoutMs).then((m) => {
      if (m.error) throw new Error(`${method}: ${m.error.message}${m.error.data ? ` ${JSON.stringify(m.error.data)}` : ''}; stderr: ${this.stderr.slice(-2000)}`);
      return m.result;
    });
  }

  /** A request whose answer, result or error, is returned as it came. */
  requestMessage(method: string, params?: unknown, timeoutMs = 60_000): Promise<JsonRpcMessage> {
    const id = this.nextId++;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer in ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`)), timeoutMs);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        resolvePromise(m);
      });
      this.send({ id, method, params });
    });
  }

  /** Sends a request without waiting for its answer (a UI that fires and renders later). */
  fire(method: string, params?: unknown): number {
    const id = this.nextId++;
    this.send({ id, method, params });
    return id;
  }

  notify(method: string, params?: unknown): void {
    this.send(params === undefined ? { method } : { method, params });
  }

  respond(id: number | string, result: unknown): void {
    this.send({ id, result });
  }

  /** Waits for a message the child sent that satisfies `match`. */
  async waitFor(match: (m: JsonRpcMessage) => boolean, what: string, timeoutMs = 60_000): Promise<JsonRpcMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.dir === 'in' && match(m.msg));
      if (found) return found.msg;
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((r) => {
        this.listeners.add(r);
        setTimeout(r, 250).unref();
      });
    }
  }

  waitForNotification(method: string, match: (params: any) => boolean = () => true, timeoutMs?: number): Promise<JsonRpcMessage> {
    return this.waitFor((m) => m.method === method && m.id === undefined && match(m.params), method, timeoutMs);
  }

  protected send(msg: JsonRpcMessage): void {
    this.messages.push({ atMs: Date.now(), dir: 'out', msg });
    this.child.stdin.write(`${JSON.stringify(msg)}\n`);
  }

  private receive(msg: JsonRpcMessage): void {
    this.messages.push({ atMs: Date.now(), dir: 'in', msg });
    if (msg.id !== undefined && msg.method === undefined) this.pending.get(msg.id)?.(msg);
    for (const l of this.listeners) l();
    this.listeners.clear();
  }
}
