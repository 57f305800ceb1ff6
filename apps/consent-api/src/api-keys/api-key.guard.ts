import { applyDecorators, type CanActivate, createParamDecorator, type ExecutionContext, ForbiddenException, Injectable, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiExtension, ApiSecurity } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Touchpoint } from '@consent-ledger/domain';
import { type ApiClient, ApiKeys } from './api-keys';
import type { Scope } from './scopes';

const ACCESS = 'consent-ledger:access';

type Access = { readonly kind: 'public' } | { readonly kind: 'key-optional' } | { readonly kind: 'any-of'; readonly scopes: readonly Scope[] };

/** No key needed (documentation). */
export const Public = () => SetMetadata(ACCESS, { kind: 'public' } satisfies Access);

/**
 * No key needed, but one sent must be valid (401 otherwise, as on every route), and the route then
 * knows its client (`CallingClientIfAny`) and may tell it more. In the API document: a bearer key or
 * none (`security: [{}, {bearer: []}]`).
 */
export const KeyOptional = () => applyDecorators(SetMetadata(ACCESS, { kind: 'key-optional' } satisfies Access), ApiSecurity({}), ApiBearerAuth());

/**
 * The key must hold at least one of these scopes. Routes without either decorator need any valid key.
 * The scopes go into the API document too (`x-scopes`): a bearer scheme has no place for them.
 */
export const RequireAnyScope = (...scopes: Scope[]) => applyDecorators(SetMetadata(ACCESS, { kind: 'any-of', scopes } satisfies Access), ApiExtension('x-scopes', scopes));

type AuthenticatedRequest = FastifyRequest & { apiClient?: ApiClient };

/** The calling client, as the guard authenticated it. */
export const CallingClient = createParamDecorator((_: unknown, context: ExecutionContext): ApiClient => {
  const client = context.switchToHttp().getRequest<AuthenticatedRequest>().apiClient;
  if (!client) throw new UnauthorizedException();
  return client;
});

/** The calling client on a `KeyOptional` route, or undefined when the request carried no key. */
export const CallingClientIfAny = createParamDecorator(
  (_: unknown, context: ExecutionContext): ApiClient | undefined => context.switchToHttp().getRequest<AuthenticatedRequest>().apiClient,
);

export function requireScope(client: ApiClient, scope: Scope, what: string): void {
  if (!client.scopes.has(scope)) throw new ForbiddenException(`${what} needs the scope ${scope}`);
}

/**
 * A key bound to touchpoints (the TV menu's key to `tv-menu`, a DPO mailbox's to `dpo-email`)
 * records only what was made or received at those touchpoints: choices and rights requests alike.
 */
export function requireTouchpoint(client: ApiClient, touchpoint: Touchpoint, what: 'choices' | 'rights requests'): void {
  if (client.touchpoints && !client.touchpoints.has(touchpoint)) {
    throw new ForbiddenException(`this key records ${what} for ${[...client.touchpoints].join(', ')} only, not ${touchpoint}`);
  }
}

/**
 * `Authorization: Bearer <key>` on every route that is not public: 401 without a known key, 403
 * without the scope. A `KeyOptional` route takes a request without the header, but not one with a key it does not know.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeys,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [context.getHandler(), context.getClass()]);
    if (access?.kind === 'public') return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (access?.kind === 'key-optional' && request.headers.authorization === undefined) return true;
    const client = authenticatedClient(this.keys, request);
    if (!client) throw new UnauthorizedException();
    if (access?.kind === 'any-of' && !access.scopes.some((scope) => client.scopes.has(scope))) {
      const needed = access.scopes.length === 1 ? `the scope ${access.scopes[0]}` : `one of the scopes ${access.scopes.join(', ')}`;
      throw new ForbiddenException(`this needs ${needed}`);
    }
    request.apiClient = client;
    return true;
  }
}

/**
 * The client whose key the request carries (`Authorization: Bearer <key>`, the scheme in any case
 * and one or more spaces after it, as RFC 9110 has it), or undefined. A keep-alive connection sends the same header with every
 * request, and hashing it cost ~4% of a decision's CPU: the last header a connection authenticated
 * with is remembered with the connection, and forgotten with it, so no key outlives the connection
 * that presented it.
 */
export function authenticatedClient(keys: ApiKeys, request: FastifyRequest): ApiClient | undefined {
  const header = request.headers.authorization ?? '';
  const connection = request.raw.socket;
  const remembered = authenticatedConnections.get(connection);
  if (remembered?.header === header) return remembered.client;
  const match = /^bearer +([\x21-\x7e]{1,512})$/i.exec(header);
  const client = match ? keys.clientFor(match[1]) : undefined;
  if (client) authenticatedConnections.set(connection, { header, client });
  return client;
}

const authenticatedConnections = new WeakMap<object, { readonly header: string; readonly client: ApiClient }>();
