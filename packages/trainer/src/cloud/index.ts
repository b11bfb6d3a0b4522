export { consoleUrl } from './console-url.js'
export { type CloudComputeConfig, type CloudJobConfig, cloudJobConfig, isCloudCompute } from './job-config.js'
export { type CloudTrainOptions, type CloudTrainResult, trainInCloud } from './train-in-cloud.js'
