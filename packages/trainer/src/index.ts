/**
 * `@edgerec/trainer`: read events → weight → train implicit-feedback ALS (conjugate gradient or
 * Cholesky, multi-threaded) → evaluate next to popularity → tune → export an int8 model version.
 * The command line is `edgerec-train` (see `docs/trainer.md`).
 *
 * @example
 * ```ts
 * // edgerec.config.ts
 * import { defineConfig } from '@edgerec/trainer'
 * export default defineConfig({ events: { kind: 'file', path: 'events.ndjson' }, als: { factors: 64 } })
 * ```
 *
 * @module
 */
export type { AlsBackend, AlsModel, AlsOptions, AlsProgress, Rng } from './als/index.js'
export {
  allocateAlsMatrix,
  createRng,
  DEFAULT_ALS_OPTIONS,
  gramMatrix,
  recalculateUser,
  resolveAlsOptions,
  resolveThreads,
  shuffleInPlace,
  trainAls,
} from './als/index.js'
export type { CatalogSourceConfig, ReadCatalog } from './catalog/index.js'
export { readCatalogFile, readCatalogSqlite, resolveCatalog } from './catalog/index.js'
export type {
  CloudComputeConfig,
  CloudJobConfig,
  CloudTrainOptions,
  CloudTrainResult,
} from './cloud/index.js'
export { cloudJobConfig, consoleUrl, isCloudCompute, trainInCloud } from './cloud/index.js'
export type { EdgerecConfig, EvaluationConfig, ExportConfig, TuningConfig } from './config/config.js'
export {
  CONFIG_FILE_NAMES,
  DEFAULT_STORAGE,
  defineConfig,
  loadConfig,
  storageFromEnv,
  validateConfig,
} from './config/config.js'
export type { CsrAllocator, CsrMatrix, InteractionMatrix } from './data/matrix.js'
export { csrFromTriples, nnz, transpose } from './data/matrix.js'
export type { TrainerErrorCode } from './errors.js'
export { TRAINER_ERROR_CODES, TrainerError } from './errors.js'
export type {
  EvaluationOptions,
  EvaluationReport,
  FoldInEvaluation,
  FoldInEvaluationOptions,
  RankingEvaluation,
  Split,
  SplitKind,
  UserRankingScores,
} from './evaluation/index.js'
export {
  evaluateModel,
  foldInMetrics,
  partition,
  popularityMetrics,
  rankingMetrics,
  recommendFloat32,
  restrictRows,
  runEvaluation,
  scoreRanking,
  splitBy,
  splitLeaveOneOut,
  splitRandom,
  splitTemporal,
} from './evaluation/index.js'
export type { ExportInput, ExportOptions, ExportResult } from './export/index.js'
export { chooseUserBuckets, exportModel, MemoryStorage } from './export/index.js'
export type {
  GateConfig,
  GateInput,
  GateMetric,
  LiveComparisonInput,
  LiveModel,
  LiveModelSource,
} from './gate/index.js'
export {
  compareWithLive,
  decideGate,
  GATE_DEFAULTS,
  GATE_HINT,
  loadLiveModel,
  servedMetrics,
} from './gate/index.js'
export type {
  Catalog,
  CatalogCategory,
  CatalogItem,
  CatalogOptions,
  FunnelRates,
  GeneratedEvent,
  GeneratedFiles,
  GenerateOptions,
  ResolvedGenerateOptions,
  UserTaste,
  WriteGeneratedOptions,
} from './generate/index.js'
export {
  CATALOG_COLOURS,
  CATEGORY_THEMES,
  catalogFor,
  generateCatalog,
  generatedUserId,
  generateEvents,
  mixSeed,
  Random,
  resolveGenerateOptions,
  userTaste,
  writeGeneratedData,
  zipfWeights,
} from './generate/index.js'
export type { LoadedInteractions, LoadOptions } from './input/load.js'
export { loadInteractions } from './input/load.js'
export type { TrendingOptions } from './popularity/index.js'
export { itemCounts, rankItems, trendingScores } from './popularity/index.js'
export type { Histogram, ReportData } from './report/index.js'
export { renderReport, scoreDistributions } from './report/index.js'
export type { Staleness, StalenessOptions } from './schedule/index.js'
export { checkStaleness } from './schedule/index.js'
export type { ImportedFactors, ImportOptions, StorageLocation } from './spark/import.js'
export { importSparkFactors, readSparkModel } from './spark/import.js'
export type { SparkInputKeys, SparkParams } from './spark/inputs.js'
export { writeSparkInputs } from './spark/inputs.js'
export type { ColumnReadOptions } from './spark/parquet-pages.js'
export type { SparkFitOptions, SparkJobReport } from './spark/train-on-spark.js'
export { isSparkCompute, SPARK_JOB_FILE, SparkFitter, sparkStaging } from './spark/train-on-spark.js'
export type { AlsFitter, TrainLogger, TrainOptions, TrainResult } from './train.js'
export {
  ensureDemoData,
  loadedMatrixAllocator,
  loadFromConfig,
  logBadRows,
  readCatalogLogged,
  resolveEventSource,
  train,
} from './train.js'
export type {
  TunedParameters,
  TuningMetric,
  TuningOptions,
  TuningRange,
  TuningReport,
  TuningSpace,
  TuningTrial,
} from './tuning/index.js'
export { gridCandidates, randomCandidates, tune } from './tuning/index.js'
export type { ValueTransform, WeightingOptions, WeightingStats } from './weighting/index.js'
export {
  compareIds,
  DEFAULT_EVENT_WEIGHTS,
  DEFAULT_UNKNOWN_TYPE_WEIGHT,
  decayFactor,
  InteractionAccumulator,
  parseValueTransform,
  resolveEventWeights,
  sortIds,
  transformFunction,
  transformMatrix,
  VALUE_TRANSFORMS,
} from './weighting/index.js'
