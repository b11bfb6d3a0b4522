export { checkStaleness, type Staleness, type StalenessOptions } from './staleness.js'
