// Issue 6 "Done when" 2 with GRE: the seed networks over 3 hosts (see multi-host.ts).
import { multiHostSuite } from './multi-host.js';

multiHostSuite('gre');
