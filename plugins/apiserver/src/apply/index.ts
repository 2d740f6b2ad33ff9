// SPDX-License-Identifier: Apache-2.0
export {
  FieldSet,
  fieldElement,
  indexElement,
  keyElement,
  pathString,
  valueElement,
} from './field-set.js';
export {
  type ApplyConflict,
  type ApplyOptions,
  type ApplyResult,
  applyConfiguration,
  checkAppliedMetadata,
  type FieldManagerContext,
  lastAppliedAnnotation,
  type ManagedFieldsEntry,
  managedFieldsAfterUpdate,
} from './managed-fields.js';
export { defaultFieldManager } from './manager-name.js';
export { fieldManagerContext, recordUpdate } from './record.js';
export { recordStatusUpdate, statusConfiguration, statusWriteView } from './status.js';
export {
  deducedType,
  type ListType,
  type MapType,
  type ScalarType,
  type StructType,
  type TypeNode,
  typeOfKind,
} from './type-tree.js';
export { type Comparison, compareObjects, fieldSetOf, mergeObjects, pruneObject } from './walk.js';
