/** Sends each HTTP request to its handler: agent routes, the JSON API, Socket.IO (which answers itself) or the console's pages. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AgentRoutesContext, handleAgentRoutes, isAgentRoute } from './http/agent-routes';
import { type ApiContext, handleApi } from './http/api';
import { isSocketIoRequest } from './http/connection-limits';
import type { Logger } from './logger';

/** Renders the console's pages (Next.js). */
export type PageHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export function routeRequest(options: { agentRoutesContext: AgentRoutesContext; apiContext: ApiContext; socketIoPath: string; pages: PageHandler | null; logger: Logger }) {
  const { agentRoutesContext, apiContext, socketIoPath, pages, logger } = options;
  return (request: IncomingMessage, response: ServerResponse): void => {
    const url = request.url ?? '/';
    if (isAgentRoute(url.split('?')[0]!)) {
      void handleAgentRoutes(request, response, agentRoutesContext);
    } else if (url.startsWith('/api/') || url === '/api') {
      void handleApi(request, response, apiContext);
    } else if (isSocketIoRequest(url, socketIoPath)) {
      return; // Socket.IO answers these itself.
    } else if (url.startsWith(socketIoPath)) {
      // Near Socket.IO's path but not its own (`/socket.iox`): nobody else would answer.
      response.writeHead(404, { 'content-type': 'text/plain', connection: 'close' }).end('not found');
    } else if (pages) {
      pages(request, response).catch((error: unknown) => {
        logger.error({ err: error, url }, 'page render failed');
        if (!response.headersSent) response.writeHead(500).end('internal error');
      });
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('web UI disabled');
    }
  };
}
