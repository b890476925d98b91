export { startAuthzService, MAX_REQUEST_BYTES } from './authzService';
export type { AuthzService, AuthzServiceOptions } from './authzService';
export { openServiceSigner } from './serviceSigner';
export { AuthorizeRequest } from './authorizeRequest';
