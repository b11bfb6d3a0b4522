export { choleskyFactor, choleskySolveInPlace, solveSpd } from './cholesky.js'
export type { Contribution, FoldInResult, ItemVectorReader, WeightedInteraction } from './fold-in.js'
export { explainScore, foldInUser, itemReaderFromBlocks } from './fold-in.js'
