// router_p2v with the agents started before the API calls (see router-p2v.ts).
import { routerP2vSuite } from './router-p2v.js';

routerP2vSuite('agents-first');
