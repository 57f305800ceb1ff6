/** The same idempotency key came back with another request: retrying cannot make it right. */
export class IdempotencyKeyReused extends Error {
  constructor(readonly client: string, readonly idempotencyKey: string) {
    super(`idempotency key ${JSON.stringify(idempotencyKey)} was already used by ${client} for a different request`);
    this.name = 'IdempotencyKeyReused';
  }
}
