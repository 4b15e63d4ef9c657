// The TypeScript cases' checker: the semantic diagnostics of each named file, from the pinned
// `typescript` compiler API. `tsc` itself reports nothing semantic for a whole program once any file
// has a syntax error, and a completion's line often has one; the API checks each file regardless.
// Prints one JSON object a line: {file, line (1-based), column (0-based), code ("TS2339"), message,
// syntax (a syntactic diagnostic)}.
//
// usage: node ts_check.js TYPESCRIPT_DIR ROOT TSCONFIG FILE...
'use strict';
const path = require('path');
const [typescriptDir, root, tsconfig, ...files] = process.argv.slice(2);
const ts = require(typescriptDir);

const config = ts.getParsedCommandLineOfConfigFile(path.resolve(tsconfig), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
});
const wanted = files.map((f) => path.resolve(root, f));
const options = { ...config.options, noEmit: true, skipLibCheck: true, incremental: false };
const program = ts.createProgram({ rootNames: wanted, options });
for (const fileName of wanted) {
  const source = program.getSourceFile(fileName);
  if (!source) throw new Error(`not in the program: ${fileName}`);
  const syntactic = program.getSyntacticDiagnostics(source);
  for (const d of [...syntactic, ...program.getSemanticDiagnostics(source)]) {
    if (d.start === undefined) continue;
    const at = source.getLineAndCharacterOfPosition(d.start);
    process.stdout.write(JSON.stringify({
      file: path.relative(path.resolve(root), fileName).split(path.sep).join('/'),
      line: at.line + 1, column: at.character, code: `TS${d.code}`,
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0],
      syntax: syntactic.includes(d),
    }) + '\n');
  }
}
