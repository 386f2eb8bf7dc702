import { Type } from 'typebox';
import { idPattern } from '../core/ids.js';
import { component, KEY_EXPECTED, KEY_PATTERN, PatternString } from './components.js';
import { WorkflowConsentFields } from './preference-schemas.js';
import { Cursor, pageOf, pageQuery } from './schemas.js';
import { Step } from './step-schemas.js';

// A workflow's versions: /v1/workflows/{key}/versions.

export const WorkflowVersionListParams = Type.Object({
  key: PatternString(KEY_PATTERN, KEY_EXPECTED, { description: 'Workflow key, e.g. comment-created' }),
});

export const WorkflowVersionParams = Type.Object({
  key: PatternString(KEY_PATTERN, KEY_EXPECTED, { description: 'Workflow key, e.g. comment-created' }),
  // PostgreSQL's INTEGER ends here: a larger number is no version, and must not reach the query.
  n: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Version number: 1 for the first save' }),
});

/** The cursor is the versionId of the last version of the previous page. */
export const WorkflowVersionListQuery = Type.Object(pageQuery(Cursor(idPattern('wfv'))), {
  additionalProperties: false,
});

export const WorkflowVersionSummary = component(
  'WorkflowVersionSummary',
  Type.Object({
    version: Type.Integer({ description: 'Its number: 1 for the first save, one more for each save after' }),
    versionId: Type.String(),
    name: Type.String(),
    stepCount: Type.Integer(),
    createdAt: Type.Number({ description: 'When this version was saved' }),
  }),
);

export const WorkflowVersionPage = pageOf(WorkflowVersionSummary);

export const WorkflowVersion = component(
  'WorkflowVersion',
  Type.Object({
    key: Type.String(),
    name: Type.String(),
    version: Type.Integer(),
    versionId: Type.String(),
    ...WorkflowConsentFields,
    steps: Type.Array(Step),
    createdAt: Type.Number({ description: 'When this version was saved' }),
  }),
);
