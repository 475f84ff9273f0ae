/**
 * A node of the PostgreSQL coordination tests, as a child process: `node coordination-node.js URL
 * NODE_NAME LEASE` opens a PgCoordination, holds LEASE and prints `held` once it has it, then lives
 * until killed (the test SIGKILLs it). Lives at most 60 s, so an orphan never outlives the run.
 */
import { PgCoordination } from '../../src/store/postgres/pg-coordination.js'

const [url, nodeName, lease] = process.argv.slice(2)
if (url === undefined || nodeName === undefined || lease === undefined)
  throw new Error('usage: coordination-node URL NODE_NAME LEASE')

const coordination = await PgCoordination.start({ url, nodeName, pollMs: 200 })
const limit = setTimeout(() => void coordination.close(), 60_000)
coordination.hold(lease, {
  acquired() {
    process.stdout.write('held\n')
  },
  lost() {
    process.stdout.write('lost\n')
    clearTimeout(limit)
  },
})
