/** Preflight for the JVM tools the local Kafka broker needs: Java 17+ to run it, Maven once to fetch its jars. */
import { DevServersError, alternatives } from './errors';
import { KAFKA_VERSION } from './config';
import { anyOutput } from './proc';

export const JAVA_MIN_MAJOR = 17;

/** Major version from `java -version` output: `version "17.0.15"` → 17, legacy `version "1.8.0_392"` → 8. */
export function parseJavaMajor(output: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

export function javaCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.JAVA_HOME ? `${env.JAVA_HOME.replace(/\/$/, '')}/bin/java` : 'java';
}

export function checkJava(env: NodeJS.ProcessEnv = process.env): { command: string; major: number } {
  const command = javaCommand(env);
  const { found, output } = anyOutput(command, ['-version']);
  const install = `Install it with \`apt-get install -y openjdk-${JAVA_MIN_MAJOR}-jre-headless\` (any Java ${JAVA_MIN_MAJOR}+ runtime works).`;
  if (!found) {
    throw new DevServersError(
      'JAVA_MISSING',
      `Java ${JAVA_MIN_MAJOR}+ is needed to run the local Kafka ${KAFKA_VERSION} broker, but \`${command}\` was not found. ${install} ${alternatives('kafka')}`,
    );
  }
  const major = parseJavaMajor(output);
  if (major === undefined || major < JAVA_MIN_MAJOR) {
    throw new DevServersError(
      'JAVA_MISSING',
      `Java ${JAVA_MIN_MAJOR}+ is needed to run the local Kafka ${KAFKA_VERSION} broker, but \`${command} -version\` reports ${major ?? `something unexpected: ${output.trim().split('\n')[0] ?? ''}`}. ${install} ${alternatives('kafka')}`,
    );
  }
  return { command, major };
}

export function checkMaven(): string {
  const { found } = anyOutput('mvn', ['-v']);
  if (!found) {
    throw new DevServersError(
      'MAVEN_MISSING',
      `Maven is needed once, to download the Kafka ${KAFKA_VERSION} jars into .cache/kafka/libs, but \`mvn\` was not found. Install it with \`apt-get install -y maven\`. ${alternatives('kafka')}`,
    );
  }
  return 'mvn';
}
