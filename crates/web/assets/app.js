// The pages' small enhancements; every page works without them.
import { initTheme } from './theme.js';
import { initCountdowns } from './countdown.js';
import { initCopy } from './copy.js';
import { initRetry } from './retry.js';
import { initFollow } from './follow.js';

initTheme();
initCountdowns();
initCopy();
initRetry();
initFollow();
// The chat page streams: its module loads only there.
if (document.getElementById('chat')) import('./chat.js');
