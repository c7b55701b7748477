export { generateClickstreamDay, type GenerateDayOptions, type GeneratedDay } from './generate-day.js';
export { DayModel, HOURLY_RHYTHM, DEVICE_MIX, FUNNEL, apportion, type DayModelOptions } from './day-model.js';
export { DEFECT_KINDS } from './defects.js';
export { SeededRandom } from './seeded-random.js';
export { ZipfSampler } from './zipf-sampler.js';
