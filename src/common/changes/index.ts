export { accountChange, keyChange, type Change, type ChangeListener, type Delivery } from './change.js';
export { ChangeFeed } from './change-feed.js';
export { ChangesModule } from './changes.module.js';
