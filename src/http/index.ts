// Public surface of the web stack (DESIGN.md, Web): HTTP(S) listeners with routing by host
// and path prefix, typed JSON APIs with session cookies and CSRF tokens, static bundles.
export { startHttp, clientAddress, contentSecurityPolicy, defaultRequestLimits, type HttpContext, type HttpListener, type HttpServers, type Surface, type SurfaceHandler } from './server.ts';
export {
  ApiError, apiEndpoint, defineApi, method, requireSession, loginRequest, csrfHeader, defaultMaxBodyBytes,
  type Api, type ApiCall, type ApiEndpoint, type ApiEndpointOptions, type ApiErrorBody, type ApiErrorCode, type ApiMethod, type ApiRequest, type ApiResponse, type Auth,
  type LoginRequest, type LoginResponse, type WebLoginAttempt, type LoginVerifier, type LogoutRequest, type LogoutResponse,
} from './api.ts';
export { Sessions, memorySessionBackend, storeSessionBackend, defaultIdleMs, defaultMaxMs, type Session, type SessionBackend } from './sessions.ts';
export { staticFile, bundle, serveStatic, negotiateEncoding, type StaticFile } from './static.ts';
export { surfaceHandler } from './surface.ts';
export { accountVerifier } from './verify.ts';
export { frontendFiles } from './frontend.ts';
export { asUserError, sessionMethod } from './usererror.ts';
