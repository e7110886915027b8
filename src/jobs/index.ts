/** The public surface of the jobs feature: other features and the app import only this file. */
export { JobsModule } from './jobs.module.js';
