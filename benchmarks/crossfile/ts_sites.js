// Cross-file sites in a TypeScript package, found with the TypeScript compiler's type checker (the
// pinned `typescript` from npm, not ghosttype's code). Prints one JSON object a line:
// {file, line (1-based), column (0-based, UTF-16), name, kind, defining_file}.
//
// usage: node ts_sites.js TYPESCRIPT_DIR ROOT TSCONFIG FOLDER
//   a site is an identifier whose declaration is in another file of FOLDER (relative to ROOT):
//   function / constructor: a call or `new` of an imported name; module_attr: `ns.name` on a
//   namespace import; method / attribute: `x.name` on any other receiver but `this`; inherited:
//   `this.name` declared in another file (a base class).
'use strict';
const path = require('path');
const [typescriptDir, root, tsconfig, folder] = process.argv.slice(2);
const ts = require(typescriptDir);

const config = ts.getParsedCommandLineOfConfigFile(path.resolve(tsconfig), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
});
const inFolder = (fileName) => {
  const rel = path.relative(path.resolve(root), fileName);
  return !rel.startsWith('..') && rel.startsWith(folder + path.sep) && !rel.endsWith('.d.ts');
};
const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
const checker = program.getTypeChecker();

function declaration(symbol) {
  if (!symbol) return undefined;
  if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const decl = symbol.declarations && symbol.declarations[0];
  return decl ? { decl, symbol } : undefined;
}

function statementOf(node) {
  let current = node;
  while (current.parent && !ts.isBlock(current.parent) && !ts.isSourceFile(current.parent)
         && !ts.isCaseClause(current.parent) && !ts.isDefaultClause(current.parent)
         && !ts.isModuleBlock(current.parent)) {
    current = current.parent;
  }
  return current;
}

for (const source of program.getSourceFiles()) {
  if (!inFolder(source.fileName)) continue;
  const file = path.relative(path.resolve(root), source.fileName).split(path.sep).join('/');
  const visit = (node) => {
    let site;
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.name)) {
      const found = declaration(checker.getSymbolAtLocation(node.name));
      if (found) {
        const receiver = node.expression;
        const receiverSymbol = ts.isIdentifier(receiver) ? checker.getSymbolAtLocation(receiver) : undefined;
        const namespace = receiverSymbol && receiverSymbol.declarations
          && receiverSymbol.declarations.some((d) => ts.isNamespaceImport(d));
        const isMethod = found.symbol.flags & ts.SymbolFlags.Method;
        const kind = namespace ? 'module_attr'
          : receiver.kind === ts.SyntaxKind.ThisKeyword ? 'inherited'
          : isMethod ? 'method' : 'attribute';
        site = { ident: node.name, found, kind };
      }
    } else if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && ts.isIdentifier(node.expression)) {
      const found = declaration(checker.getSymbolAtLocation(node.expression));
      if (found) {
        const isClass = found.symbol.flags & ts.SymbolFlags.Class;
        site = { ident: node.expression, found, kind: isClass ? 'constructor' : 'function' };
      }
    }
    if (site) {
      const target = site.found.decl.getSourceFile().fileName;
      if (target !== source.fileName && inFolder(target)) {
        const start = source.getLineAndCharacterOfPosition(site.ident.getStart(source));
        const statement = statementOf(node);
        const first = source.getLineAndCharacterOfPosition(statement.getStart(source)).line;
        const last = source.getLineAndCharacterOfPosition(statement.getEnd()).line;
        if (first === start.line && last === start.line) {
          process.stdout.write(JSON.stringify({
            file, line: start.line + 1, column: start.character, name: site.ident.text, kind: site.kind,
            defining_file: path.relative(path.resolve(root), target).split(path.sep).join('/'),
          }) + '\n');
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
