// The e2e project's global setup: it runs real agents, so it runs only where loopback is the sole
// interface (the namespace that `npm run test:e2e` makes), never on this machine's own network.
import { interfacesBesidesLoopback } from '../network-namespace.mjs';

export function setup() {
  const others = interfacesBesidesLoopback();
  if (others.length > 0) {
    throw new Error(`the e2e project runs only in a network namespace with loopback alone: run it with \`npm run test:e2e\` or \`node test/e2e/in-network-namespace.mjs [vitest options]\` (interfaces seen here besides lo: ${others.join(', ')})`);
  }
}
