import type { Attributes as OtelAttributes } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { Attributes } from '@stall-why/flight-record';

/**
 * One Resource object per distinct set of resource attributes: the OTLP serializers group spans and
 * log records by the object's identity, so records read back from disk must share them.
 */
export class SharedResources {
  private readonly resources = new Map<string, Resource>();

  resourceFor(attributes: Attributes | undefined): Resource {
    const key = JSON.stringify(attributes ?? {});
    let resource = this.resources.get(key);
    if (!resource) {
      // Bounded: a directory with many distinct resources costs a few more groups per batch, never memory.
      if (this.resources.size > 64) this.resources.clear();
      resource = resourceFromAttributes((attributes ?? {}) as OtelAttributes);
      this.resources.set(key, resource);
    }
    return resource;
  }
}
