export type {
  CompareOp,
  FilterNode,
  FilterParseResult,
  ItemFilterSpec,
  ItemPredicate,
  ItemViewSource,
} from './filter.js'
export {
  compileItemFilter,
  FILTER_LIMITS,
  indexFilterOf,
  matchesNode,
  parseFilterExpression,
} from './filter.js'
export type {
  AttributeValue,
  CatalogItem,
  CatalogItemInput,
  ItemBatchResult,
  ItemBatchValidationResult,
  ItemValidationResult,
} from './item.js'
export {
  ATTRIBUTE_NAME_PATTERN,
  CATALOG_LIMITS,
  LABEL_PATTERN,
  RESERVED_ATTRIBUTE_NAMES,
  validateItem,
  validateItemBatch,
} from './item.js'
export type { ActiveRules, RankSource, RuleOverrides } from './rank.js'
export {
  activeRules,
  cosineOfCandidates,
  MIN_RULE_POOL,
  mergeCandidates,
  rankedList,
  rankWithRules,
} from './rank.js'
export type {
  BoostRule,
  Candidate,
  CompiledBoost,
  CompiledRules,
  MerchandisingRules,
  PinRule,
  RerankOptions,
} from './rules.js'
export { boostFactor, compileRules, RULE_LIMITS, rerank } from './rules.js'
export type {
  CatalogColumns,
  CatalogLayout,
  CatalogTableBuilder,
  ItemView,
  LabelColumn,
  NumberColumn,
  PackedCatalog,
  SplitCatalog,
} from './table.js'
export {
  alignedCatalogBuildBytes,
  alignedCatalogByteLength,
  CatalogTable,
  catalogColumnsByteLength,
  catalogLayoutOf,
  decodeCatalogColumns,
  encodeCatalogColumns,
  splitCatalog,
  UNKNOWN_ITEM_VIEW,
  viewOfItem,
} from './table.js'
