import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The threaded SQLite store forwards Store methods by name (src/store/sqlite/thread-protocol.ts).
// These tests compile that file against an edited Store interface, to show that a member added to
// Store and forgotten in the thread protocol fails typecheck, with a message that names it.

const STORE = fileURLToPath(new URL('../../src/core/store.ts', import.meta.url));
const PROTOCOL = fileURLToPath(new URL('../../src/store/sqlite/thread-protocol.ts', import.meta.url));

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: true,
  noEmit: true,
  types: [],
};
/** Source files parsed once for all the compilations below (the standard library, core/…). */
const unedited = new Map<string, ts.SourceFile>();

/** The compiler's errors for thread-protocol.ts, with Store's or the protocol's source edited. */
function compileErrors(edits: { store?: (source: string) => string; protocol?: (source: string) => string }) {
  const host = ts.createCompilerHost(OPTIONS);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, language, ...rest) => {
    const edit = fileName === STORE ? edits.store : fileName === PROTOCOL ? edits.protocol : undefined;
    if (edit) return ts.createSourceFile(fileName, edit(readFileSync(fileName, 'utf8')), language);
    let file = unedited.get(fileName);
    if (!file) {
      file = getSourceFile(fileName, language, ...rest);
      if (file) unedited.set(fileName, file);
    }
    return file;
  };
  const program = ts.createProgram([PROTOCOL], OPTIONS, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map(
      (diagnostic) =>
        `${diagnostic.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
    );
}

/** Store with `member` added to one of its ports (Store is their union). */
const withMember = (member: string) => (source: string) => {
  const edited = source.replace(
    'export interface WorkflowStore {\n',
    `export interface WorkflowStore {\n  ${member}\n`,
  );
  expect(edited).not.toBe(source);
  return edited;
};

describe('the thread protocol is checked against the Store interface', () => {
  it('compiles as it is', () => {
    expect(compileErrors({})).toEqual([]);
  });

  it('names a method added to Store and missing from the protocol', () => {
    const errors = compileErrors({
      store: withMember('archiveWorkflow(environmentId: string, key: string): Promise<boolean>;'),
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('thread-protocol.ts');
    expect(errors[0]).toMatch(/Property 'archiveWorkflow' is missing/);
  });

  it('names an optional listener added to Store and missing from the protocol', () => {
    const errors = compileErrors({ store: withMember('onSomething?(listener: () => void): void;') });
    expect(errors.join('\n')).toMatch(/Property 'onSomething' is missing/);
  });

  it('says why a required method that takes a function cannot cross the thread', () => {
    const errors = compileErrors({
      store: withMember('onSomething(listener: () => void): void;'),
      protocol: (source) => source.replace("  ping: 'call',\n", "  ping: 'call',\n  onSomething: 'absent',\n"),
    });
    expect(errors.join('\n')).toMatch(/a required Store method that takes a function cannot run in the SQLite thread/);
  });

  it('says why a method that returns no Promise cannot cross the thread', () => {
    const errors = compileErrors({
      store: withMember('currentTime(): number;'),
      protocol: (source) => source.replace("  ping: 'call',\n", "  ping: 'call',\n  currentTime: 'call',\n"),
    });
    expect(errors.join('\n')).toMatch(/a Store method must return a Promise to run in the SQLite thread/);
  });

  it('refuses a required method placed as absent, and a name Store does not have', () => {
    const absent = compileErrors({ protocol: (source) => source.replace("  ping: 'call',", "  ping: 'absent',") });
    expect(absent.join('\n')).toMatch(/Type '"absent"' is not assignable to type '"call"'/);
    const unknown = compileErrors({ protocol: (source) => source.replace("  ping: 'call',", "  pong: 'call',") });
    expect(unknown.join('\n')).toMatch(/'pong' does not exist in type 'StorePlacements'/);
  });
});
