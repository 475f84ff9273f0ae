/**
 * Test helper: the recorder's TraceSender as `opencts record` builds it — `POST /v3/{project}/traces`
 * over HTTP, signed with the test admin's AK/SK (test-app.ts) for the project of each batch.
 */
import { CtsClient, akskAuthorizer } from '../../src/cli/http-client.js'
import type { TraceSender } from '../../src/recorder/trace-reporter.js'
import { ADMIN_AK, ADMIN_SK } from './test-app.js'

export function producerSender(ctsUrl: string): TraceSender {
  const client = (projectId: string): CtsClient =>
    new CtsClient(
      new URL(ctsUrl),
      akskAuthorizer({
        accessKeyId: ADMIN_AK,
        secretKey: ADMIN_SK,
        projectId,
        description: 'test producer',
        now: () => Date.now(),
      }),
    )
  return {
    send: async (projectId, traces) => {
      await client(projectId).postTraces(projectId, JSON.stringify({ traces }))
    },
  }
}
