// Public surface of the web stack (DESIGN.md, Web): HTTP(S) listeners with routing by host
// and path prefix, typed JSON APIs with session cookies and CSRF tokens, static bundles.
export { startHttp, type HttpContext, type HttpListener, type HttpServers, type Surface, type SurfaceHandler } from './server.ts';
export {
  ApiError, apiEndpoint, readBody, sendApiError, sendJson, defineApi, requireSession,
  type Api, type ApiCall, type ApiErrorBody, type ApiMethod, type ApiRequest, type ApiResponse,
  type LoginResponse, type LoginVerifier,
} from './api.ts';
export { Sessions, memorySessionBackend, storeSessionBackend } from './sessions.ts';
export { surfaceHandler } from './surface.ts';
export { accountVerifier } from './verify.ts';
export { frontendFiles } from './frontend.ts';
export { sessionMethod } from './usererror.ts';
