// Traces (`vnctl trace`): the server follows a packet host by host, asking each host's agent over its feed stream
// (agent-requests.ts); agents answer here.
import { MalformedRequest } from '../../model/errors.js';
import type { ParamSpec } from '../../model/params.js';
import { TRACE_PARAMS, type TraceProtocol } from '../../model/trace.js';
import type { AgentReply } from '../agent-requests.js';
import { runTrace, sourceInterface } from '../trace.js';
import { pluginWith } from './context.js';

/** An agent's answer carries its whole result as JSON text (a trace of a few hosts is tens of KiB). */
const ANSWER_PARAMS: ParamSpec[] = [
  { name: 'result', type: { t: 'string', max: 1 << 20 }, doc: 'the result, as JSON text' },
  { name: 'error', type: { t: 'string', max: 4096 }, doc: 'what went wrong, instead of a result' },
];

export const traceRoutes = pluginWith('requests', (r, requests) => {
  r.add({
    method: 'POST',
    url: '/traces',
    tag: 'traces',
    summary: "A packet's way from an interface, host by host, traced in each host's switch",
    params: TRACE_PARAMS,
    // Reads only: nothing is written, and the flows it shows are what the model already tells a reader.
    access: 'read',
    handler: async ({ p }) =>
      runTrace(r.service, requests, {
        interface_uuid: await sourceInterface(r.service, p),
        dst: p.dst as string,
        proto: (p.proto as TraceProtocol | undefined) ?? 'icmp',
        dport: p.dport as number | undefined,
        sport: p.sport as number | undefined,
        ttl: p.ttl as number | undefined,
        explain: p.explain === true,
      }),
  });
  r.add({
    method: 'PUT',
    url: '/agent_requests/:id',
    tag: 'agent',
    summary: "Agent report: its answer to a request the server sent down its feed stream (a trace's hop)",
    path: { id: 'rq' },
    params: ANSWER_PARAMS,
    access: 'report',
    handler: async ({ path, p, who }) => {
      let reply: AgentReply;
      if (typeof p.error === 'string') reply = { error: p.error };
      else if (typeof p.result === 'string') {
        try {
          reply = { result: JSON.parse(p.result) };
        } catch {
          throw new MalformedRequest('result: not JSON');
        }
      } else throw new MalformedRequest('result or error is required');
      requests.answer(who.role === 'agent' ? who.nodeId : null, path.id!, reply);
      return { id: path.id };
    },
  });
});
