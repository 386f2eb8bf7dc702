/**
 * Everything a bench starts (child processes, temp dirs, servers) registers how to undo it here,
 * so a failed or interrupted run leaves nothing behind. Each entry has an async `stop` for the
 * normal path and a synchronous `kill` for process exit, where nothing async can run any more.
 */
const entries = new Set();

/** Registers a resource; returns a function that stops it now and unregisters it. */
export function track(name, { stop, kill }) {
  const entry = { name, stop, kill };
  entries.add(entry);
  return async () => {
    if (!entries.delete(entry)) return;
    await stop();
  };
}

/** Stops everything still registered, newest first; errors are reported, not thrown. */
export async function stopAll() {
  for (const entry of [...entries].reverse()) {
    entries.delete(entry);
    try {
      await entry.stop();
    } catch (error) {
      console.error(`bench: stopping ${entry.name} failed: ${error instanceof Error ? error.message : error}`);
    }
  }
}

function killAll() {
  for (const entry of [...entries].reverse()) {
    entries.delete(entry);
    try {
      entry.kill();
    } catch {
      // exiting anyway: nothing better to do
    }
  }
}

let installed = false;

/** On Ctrl-C, SIGTERM or an unexpected exit, children are stopped and temp dirs removed. */
export function installExitHandlers() {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}, stopping children`);
      const hardStop = setTimeout(() => process.exit(130), 5_000);
      hardStop.unref();
      stopAll().finally(() => process.exit(130));
    });
  }
}
