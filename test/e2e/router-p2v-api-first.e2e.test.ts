// router_p2v with the API calls made before the agents start (see router-p2v.ts).
import { routerP2vSuite } from './router-p2v.js';

routerP2vSuite('api-first');
