import type { GcpNeed } from './functions.js';

/**
 * Least-privilege IAM for each `GcpNeed` of the function registry. Each need maps to predefined roles granted on the
 * narrowest resource that works: the feature dataset, the artifact bucket, or (only where GCP has no narrower scope)
 * the project. Primitive roles (owner/editor/viewer) are never used; the topology tests enforce it.
 */
export type GrantScope = 'project' | 'dataset' | 'artifact_bucket';

/** Service accounts a function may need to act as (`iam.serviceAccounts.actAs`), e.g. to start a Vertex job as the trainer. */
export type ActAs = 'trainer' | 'server';

export interface NeedGrant {
  scope: GrantScope;
  role: string;
}

export const needGrants: Record<GcpNeed, { grants: NeedGrant[]; actAs: ActAs[] }> = {
  'bigquery.read': { grants: [{ scope: 'dataset', role: 'roles/bigquery.dataViewer' }], actAs: [] },
  'bigquery.write': { grants: [{ scope: 'dataset', role: 'roles/bigquery.dataEditor' }], actAs: [] },
  // Query and load jobs are billed and created at project level: jobUser has no narrower scope.
  'bigquery.jobs': { grants: [{ scope: 'project', role: 'roles/bigquery.jobUser' }], actAs: [] },
  'storage.read': { grants: [{ scope: 'artifact_bucket', role: 'roles/storage.objectViewer' }], actAs: [] },
  'storage.write': { grants: [{ scope: 'artifact_bucket', role: 'roles/storage.objectAdmin' }], actAs: [] },
  // Vertex AI custom jobs run as the trainer service account: the caller needs actAs on it.
  'vertex.train': { grants: [{ scope: 'project', role: 'roles/aiplatform.user' }], actAs: ['trainer'] },
  // Deployed models run as the server service account.
  'vertex.deploy': { grants: [{ scope: 'project', role: 'roles/aiplatform.user' }], actAs: ['server'] },
};

/** Predefined roles whose permissions include another's: granting both adds nothing. */
const IMPLIES: Record<string, string[]> = {
  'roles/storage.objectAdmin': ['roles/storage.objectViewer', 'roles/storage.objectUser', 'roles/storage.objectCreator'],
  'roles/bigquery.dataEditor': ['roles/bigquery.dataViewer'],
};

/** Drop roles already included in another role of the same list (same scope). */
export function withoutImpliedRoles(roles: string[]): string[] {
  const implied = new Set(roles.flatMap((r) => IMPLIES[r] ?? []));
  return roles.filter((r) => !implied.has(r));
}

/** Roles that grant far more than any ctloop component needs. */
export const PRIMITIVE_ROLES = ['roles/owner', 'roles/editor', 'roles/viewer'] as const;

export function isPrimitiveRole(role: string): boolean {
  return (PRIMITIVE_ROLES as readonly string[]).includes(role.trim().toLowerCase());
}
