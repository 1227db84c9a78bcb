// Issue 6 "Done when" 2 with VXLAN: the seed networks over 3 hosts (see multi-host.ts).
import { multiHostSuite } from './multi-host.js';

multiHostSuite('vxlan');
