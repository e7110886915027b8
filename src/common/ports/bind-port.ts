import type { Abstract, ExistingProvider, Type } from '@nestjs/common';

/**
 * Binds a port (an abstract class the consuming feature declares in its `ports/` folder) to the
 * class that implements it. Unlike a bare `{ provide, useExisting }`, the compiler checks that
 * `implementation` fits the port.
 */
export function bindPort<P>(port: Abstract<P>, implementation: Type<P>): ExistingProvider<P> {
  return { provide: port, useExisting: implementation };
}
