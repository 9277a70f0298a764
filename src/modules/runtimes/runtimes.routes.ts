import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { pageInMemory } from '../../db/pagination.ts';
import type { Deps } from '../../deps.ts';
import { actorOf, requireOrgAccess, requireRuntime, requireStaff } from '../../http/auth.ts';
import { errors, OrgParams, ShortListQuery } from '../../http/schemas.ts';
import { fail } from '../../kernel/errors.ts';
import { decommissionControlPlane } from './decommission-control-plane.ts';
import { deleteRuntime } from './delete-runtime.ts';
import { registerRuntime } from './register-runtime.ts';
import { type ControlPlaneRow, findCurrentControlPlane, listRuntimes, type RuntimeRow } from './runtimes.repo.ts';
import { runtimeState } from './runtimes.ts';
import { setControlPlaneConfig } from './set-control-plane-config.ts';

export function presentRuntime(runtime: RuntimeRow, controlPlaneStatus: string, now: Date) {
  return {
    id: runtime.id,
    org_id: runtime.orgId,
    control_plane_id: runtime.controlPlaneId,
    name: runtime.name,
    token_prefix: runtime.tokenPrefix,
    created_at: runtime.createdAt.toISOString(),
    last_seen_at: runtime.lastSeenAt?.toISOString() ?? null,
    state: runtimeState(runtime.lastSeenAt, controlPlaneStatus, now),
  };
}

function presentControlPlane(controlPlane: ControlPlaneRow) {
  return {
    id: controlPlane.id,
    org_id: controlPlane.orgId,
    status: controlPlane.status,
    created_at: controlPlane.createdAt.toISOString(),
    decommissioned_at: controlPlane.decommissionedAt?.toISOString() ?? null,
    version: controlPlane.configVersion,
    config: controlPlane.config,
  };
}

const RouteSchema = Type.Object({
  path_prefix: Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'Requests whose path starts with this go to the upstream.',
  }),
  upstream_url: Type.String({ minLength: 1, maxLength: 2000, description: 'The http(s) URL requests are proxied to.' }),
  service: Type.Optional(Type.String({ maxLength: 100, description: 'The service name usage is counted under.' })),
});

/** Runtimes, the control plane's configuration, and what runtimes themselves call. */
export function runtimeRoutes(deps: Deps) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/orgs/:org_id/runtimes',
      {
        schema: {
          tags: ['runtimes'],
          params: OrgParams,
          body: Type.Object({
            name: Type.String({ minLength: 1, maxLength: 100, description: 'A name for the runtime.' }),
          }),
          response: errors(400, 401, 403, 404),
        },
      },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const created = await registerRuntime(deps.db, request.now, {
          orgId: request.params.org_id,
          actor: actorOf(caller),
          name: request.body.name,
          catalog: deps.catalog,
        });
        return reply.status(201).send({
          runtime: presentRuntime(created.runtime, created.controlPlaneStatus, request.now),
          token: created.token,
        });
      },
    );

    app.get(
      '/orgs/:org_id/runtimes',
      {
        schema: {
          tags: ['runtimes'],
          params: OrgParams,
          querystring: ShortListQuery,
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read_admin');
        const rows = await listRuntimes(deps.db, request.params.org_id);
        return pageInMemory(
          rows,
          (row) => row.runtime,
          request.query,
          (row) => presentRuntime(row.runtime, row.controlPlaneStatus, request.now),
        );
      },
    );

    app.delete(
      '/orgs/:org_id/runtimes/:runtime_id',
      {
        schema: {
          tags: ['runtimes'],
          params: Type.Object({ org_id: Type.String({ maxLength: 64 }), runtime_id: Type.String({ maxLength: 64 }) }),
          response: errors(401, 403, 404),
        },
      },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        await deleteRuntime(deps.db, request.now, {
          orgId: request.params.org_id,
          runtimeId: request.params.runtime_id,
          actor: actorOf(caller),
        });
        return reply.status(204).send();
      },
    );

    app.get(
      '/orgs/:org_id/control-plane',
      { schema: { tags: ['runtimes'], params: OrgParams, response: errors(401, 403, 404) } },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read_admin');
        const controlPlane = await findCurrentControlPlane(deps.db, request.params.org_id);
        if (!controlPlane) throw fail.notFound('control plane');
        return presentControlPlane(controlPlane);
      },
    );

    app.put(
      '/orgs/:org_id/control-plane/config',
      {
        schema: {
          tags: ['runtimes'],
          params: OrgParams,
          body: Type.Object({
            routes: Type.Array(RouteSchema, { maxItems: 100, description: 'The routes runtimes proxy.' }),
          }),
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const updated = await setControlPlaneConfig(deps.db, request.now, {
          orgId: request.params.org_id,
          actor: actorOf(caller),
          routes: request.body.routes,
        });
        return presentControlPlane(updated);
      },
    );

    app.post(
      '/admin/orgs/:org_id/control-plane/decommission',
      {
        schema: {
          tags: ['support'],
          params: OrgParams,
          body: Type.Object({
            reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why, for the audit log.' }),
          }),
          response: errors(400, 401, 403, 404, 409),
        },
      },
      async (request) => {
        const caller = requireStaff(request, 'support');
        await decommissionControlPlane(deps.db, request.now, {
          orgId: request.params.org_id,
          actor: actorOf(caller),
          reason: request.body.reason,
        });
        const controlPlane = await findCurrentControlPlane(deps.db, request.params.org_id);
        return presentControlPlane(controlPlane as ControlPlaneRow);
      },
    );

    app.get('/runtime/config', { schema: { tags: ['runtime'], response: errors(401, 403) } }, async (request) => {
      const { runtime, controlPlane } = await requireRuntime(deps.db, request);
      const config = controlPlane.config as { routes: unknown[] };
      return {
        control_plane_id: controlPlane.id,
        org_id: runtime.orgId,
        runtime_id: runtime.id,
        version: controlPlane.configVersion,
        routes: config.routes,
      };
    });
  };
}
