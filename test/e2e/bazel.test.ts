// End-to-end: a real Bazel (Debian's bazel-bootstrap 4.2.3) uses a peercas
// node as its gRPC remote cache. A cold build populates the cache; after
// `bazel clean` every action of the rebuild must be a remote cache hit, and the
// outputs must be byte-identical to the cold build's.
//
// The fixture (test/e2e/fixtures/bazel-workspace) is a graph of 14 genrules
// using only coreutils, so it builds offline; one output is ~2.6 MB (> 2 MiB),
// one is empty, one action has several outputs.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode } from '../helpers/node.js';
import {
  BAZEL_BIN,
  type BazelBuildResult,
  type BazelWorkspace,
  bazelBuild,
  bazelClean,
  bazelOutputSize,
  collectBazelOutputs,
  describeBazelResult,
  hasBazel,
  prepareBazelWorkspace,
} from '../helpers/bazel.js';

const TEST_TIMEOUT_MS = 240_000;
const bazelAvailable = await hasBazel();
if (!bazelAvailable) {
  console.warn(`[bazel e2e] SKIPPED: ${BAZEL_BIN} not found (install Debian's bazel-bootstrap).`);
}

/** Bazel 4 reports remote-cache trouble as warnings and carries on; surface them. */
function remoteCacheWarnings(result: BazelBuildResult): string[] {
  return result.stderr.split('\n').filter((line) => /^(WARNING|ERROR):.*remote/i.test(line));
}

function expectSuccess(result: BazelBuildResult | Awaited<ReturnType<typeof bazelClean>>, what: string): void {
  expect(result.exitCode, `${what} failed:\n${describeBazelResult(result)}`).toBe(0);
}

describe.skipIf(!bazelAvailable)(
  `Bazel 4 against a peercas node as --remote_cache${bazelAvailable ? '' : ` (skipped: ${BAZEL_BIN} missing)`}`,
  () => {
    let node: Awaited<ReturnType<typeof startTestNode>> | undefined;
    const workspaces: BazelWorkspace[] = [];

    beforeAll(async () => {
      node = await startTestNode({ listen: ['127.0.0.1:0'] });
    }, 60_000);

    afterAll(async () => {
      await node?.stop();
      for (const ws of workspaces) await ws.cleanup();
    }, 60_000);

    it(
      'serves every action of a rebuild after `bazel clean` from the cache',
      async () => {
        const address = node!.tcpAddresses[0];
        expect(address, 'node has no TCP listener').toBeDefined();
        const remoteCache = `grpc://${address}`;

        const ws = await prepareBazelWorkspace();
        workspaces.push(ws);

        // 1. Cold build: everything executes locally and is uploaded.
        const cold = await bazelBuild(ws.workspaceDir, { remoteCache });
        expectSuccess(cold, 'cold build');
        expect(remoteCacheWarnings(cold), describeBazelResult(cold)).toEqual([]);
        expect(cold.summary, `no process summary:\n${describeBazelResult(cold)}`).toBeDefined();
        expect(cold.totalActions).toBeGreaterThan(10);
        expect(cold.remoteCacheHits, 'a fresh node cannot have cache hits').toBe(0);
        const coldOutputs = await collectBazelOutputs(ws.workspaceDir);
        expect(await bazelOutputSize(ws.workspaceDir, 'numbers_large.txt')).toBeGreaterThan(2 * 1024 * 1024);
        expect(await bazelOutputSize(ws.workspaceDir, 'parts/empty.txt')).toBe(0);

        // 2. Drop the local output tree and action cache.
        expectSuccess(await bazelClean(ws.workspaceDir), 'bazel clean');

        // 3. Rebuild: every non-internal action must come from the remote cache.
        const warm = await bazelBuild(ws.workspaceDir, { remoteCache });
        expectSuccess(warm, 'rebuild');
        expect(remoteCacheWarnings(warm), describeBazelResult(warm)).toEqual([]);
        expect(warm.totalActions, describeBazelResult(warm)).toBe(cold.totalActions);
        expect(warm.remoteCacheHits, `not all actions were cache hits:\n${describeBazelResult(warm)}`).toBe(
          warm.totalActions,
        );
        expect(warm.totalActions).toBeGreaterThan(10);
        expect(await collectBazelOutputs(ws.workspaceDir)).toEqual(coldOutputs);

        // 4. A separate checkout (other path, other output root: "a teammate")
        //    is also served entirely from the cache.
        const other = await prepareBazelWorkspace();
        workspaces.push(other);
        const teammate = await bazelBuild(other.workspaceDir, { remoteCache });
        expectSuccess(teammate, 'build in a second checkout');
        expect(teammate.remoteCacheHits, describeBazelResult(teammate)).toBe(teammate.totalActions);
        expect(teammate.totalActions).toBe(cold.totalActions);
        expect(await collectBazelOutputs(other.workspaceDir)).toEqual(coldOutputs);
      },
      TEST_TIMEOUT_MS,
    );
  },
);
