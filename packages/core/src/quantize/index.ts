export type { QuantizedMatrix } from './quantize.js'
export {
  dequantizeRowInto,
  dequantizeRows,
  quantizeRowInto,
  quantizeRows,
  quantizeVector,
  roundHalfAwayFromZero,
} from './quantize.js'
