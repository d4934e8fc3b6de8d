// The pages' small enhancements; every page works without them.
import { initTheme } from './theme.js';
import { initCountdowns } from './countdown.js';

initTheme();
initCountdowns();
// The chat page streams: its module loads only there.
if (document.getElementById('chat')) import('./chat.js');
