/** The example app-server of stall-why, its client, and its stall switches: usable from code and from the CLI (`app-server.js`). */
export { startExampleAppServer, DEFAULT_STALL_MS, EXAMPLE_SERVICE_NAME, TURN_ID_HEADER, type ExampleAppServer, type ExampleAppServerOptions } from './example-app-server.js';
export { runExampleTurn, type ExampleTurnOptions, type ExampleTurnResult } from './example-client.js';
export { runStallScenario, type StallScenarioOptions } from './stall-scenario.js';
export { STALLS, STALL_NAMES, isStallName, scenarioShape, type ScenarioShape, type StallName } from './stalls.js';
export { OtlpJsonLinesFileExporter } from './otlp-json-lines-exporter.js';
export { PhaseLogProcessor } from './phase-log-processor.js';
export { startFakeModelUpstream, FAKE_TOOL_NAME, type FakeModelUpstream } from './fake-model-upstream.js';
