/**
 * Polls `condition` every `intervalMs` until it holds, or throws naming `what` once `timeoutMs`
 * has passed. The one polling helper of the test suite.
 */
export async function waitFor (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
