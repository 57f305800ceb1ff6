import { AsyncLocalStorage } from 'node:async_hooks';

const runningHandler = new AsyncLocalStorage<symbol>();

/**
 * Marks the subscription whose handler is running, so that `close()` called from inside `onEvent`
 * (a handler that stops after the event it waited for) does not wait for itself to finish.
 */
export function runAsHandlerOf<T>(subscription: symbol, handler: () => T): T {
  return runningHandler.run(subscription, handler);
}

export function isInsideHandlerOf(subscription: symbol): boolean {
  return runningHandler.getStore() === subscription;
}
