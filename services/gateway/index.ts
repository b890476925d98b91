export { startGateway, type Gateway, type GatewayOptions } from './gatewayServer';
export { RevocationList } from './revocationList';
export { startRevocationListener, type RevocationListener } from './revocationListener';
export { runDemoTool } from './demoTools';
