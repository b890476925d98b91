// Integration tests wait on real servers (consumer group joins, rebalances); per-test timeouts are a project
// setting jest only takes from setup files.
jest.setTimeout(120_000);
