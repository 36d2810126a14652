import type { GcpNeed } from './functions.js';

/**
 * Least-privilege IAM for each `GcpNeed` of the function registry. Each need maps to predefined roles granted on the
 * narrowest resource that works: the feature dataset, the artifact bucket, the online store (the Firestore database
 * or the Bigtable instance, whichever Terraform's `online_store` chose), or (only where GCP has no narrower scope)
 * the project. Primitive roles (owner/editor/viewer) are never used; the topology tests enforce it.
 *
 * Online-store scopes: Firestore roles exist only on the project, so Terraform grants them with an IAM condition on
 * the database's resource name (`projects/P/databases/D`); Bigtable roles are granted on the instance (Bigtable IAM
 * has no narrower scope that Terraform manages). Only one of the two is granted: the one of the store in use.
 */
export type GrantScope = 'project' | 'dataset' | 'artifact_bucket' | 'firestore_database' | 'bigtable_instance';

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
  // Reads are getAll / ReadRows (and, on Bigtable, reading the table's column families once per process).
  'online.read': {
    grants: [{ scope: 'firestore_database', role: 'roles/datastore.viewer' }, { scope: 'bigtable_instance', role: 'roles/bigtable.reader' }],
    actAs: [],
  },
  // Writes are transactions (Firestore) or CheckAndMutateRow (Bigtable): data access only, never admin (Terraform
  // creates the database, table and column families).
  'online.write': {
    grants: [{ scope: 'firestore_database', role: 'roles/datastore.user' }, { scope: 'bigtable_instance', role: 'roles/bigtable.user' }],
    actAs: [],
  },
  // getCustomJob / listCustomJobs: read-only, no job is started (so no actAs).
  'vertex.read': { grants: [{ scope: 'project', role: 'roles/aiplatform.viewer' }], actAs: [] },
  // Vertex AI custom jobs run as the trainer service account: the caller needs actAs on it.
  'vertex.train': { grants: [{ scope: 'project', role: 'roles/aiplatform.user' }], actAs: ['trainer'] },
  // Deployed models run as the server service account.
  'vertex.deploy': { grants: [{ scope: 'project', role: 'roles/aiplatform.user' }], actAs: ['server'] },
};

/** Predefined roles whose permissions include another's: granting both adds nothing. */
const IMPLIES: Record<string, string[]> = {
  'roles/storage.objectAdmin': ['roles/storage.objectViewer', 'roles/storage.objectUser', 'roles/storage.objectCreator'],
  'roles/bigquery.dataEditor': ['roles/bigquery.dataViewer'],
  'roles/datastore.user': ['roles/datastore.viewer'],
  'roles/bigtable.user': ['roles/bigtable.reader'],
  'roles/aiplatform.user': ['roles/aiplatform.viewer'],
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
