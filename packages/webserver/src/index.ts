export { type AppOptions, createApp } from "./app.js";
export { type ApiToken, type AuthConfig, authFromEnv, makeToken, type Role } from "./auth.js";
export { ApiError, type ErrorBody } from "./errors.js";
export { OPENAPI_CONFIG, openApiDocument } from "./openapi.js";
export { startWebserver, type WebserverOptions } from "./server.js";
export { CONTENT_SECURITY_POLICY, defaultUiDir, type UiOptions } from "./static-ui.js";
