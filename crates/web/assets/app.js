// The pages' small enhancements; every page works without them.
import { initTheme } from './theme.js';
import { initCountdowns } from './countdown.js';

initTheme();
initCountdowns();
