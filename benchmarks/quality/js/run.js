'use strict';
// Runs tape-style test files in one process: node run.js TEST_FILE...
var path = require('path');
var tape = require(path.resolve('node_modules/tape'));
process.argv.slice(2).forEach(function (file) {
    try { require(path.resolve(file)); } catch (e) {
        tape.__state.failed += 1;
        tape.__state.failures.push(file + ': ' + (e && e.stack ? e.stack.split('\n')[0] : e));
    }
});
var s = tape.__state;
s.failures.slice(0, 5).forEach(function (f) { console.log('FAIL ' + f); });
console.log(s.passed + ' passed, ' + s.failed + ' failed');
process.exitCode = s.failed > 0 || s.passed === 0 ? 1 : 0;
