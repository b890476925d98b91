export * from './envelope';
export * from './intent';
export * from './action';
export * from './time';
export * from './digest';
export * from './decision';
export * from './observation';
export * from './revocationNotice';
