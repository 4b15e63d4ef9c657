'use strict';
// A small stand-in for `tape` (https://github.com/ljharb/tape), enough for the synchronous test
// files that qs and minimist ship: the benchmark runs their tests with `node` alone, offline.
// Assertions are counted; run.js prints "N passed, N failed" and sets the exit code.

var state = { passed: 0, failed: 0, failures: [] };

function isBuf(x) { return typeof Buffer !== 'undefined' && Buffer.isBuffer(x); }

function deepEqual(a, b) {
    if (a === b) { return true; }
    if (typeof a === 'number' && typeof b === 'number') { return a !== a && b !== b; }
    if (!a || !b || typeof a !== 'object' || typeof b !== 'object') { return false; }
    if (isBuf(a) || isBuf(b)) { return isBuf(a) && isBuf(b) && a.equals(b); }
    if (a instanceof Date || b instanceof Date) { return String(a) === String(b) && a instanceof Date && b instanceof Date; }
    if (a instanceof RegExp || b instanceof RegExp) { return String(a) === String(b); }
    if (Array.isArray(a) !== Array.isArray(b)) { return false; }
    var ka = Object.keys(a).sort();
    var kb = Object.keys(b).sort();
    if (ka.length !== kb.length) { return false; }
    for (var i = 0; i < ka.length; i++) {
        if (ka[i] !== kb[i] || !deepEqual(a[ka[i]], b[ka[i]])) { return false; }
    }
    return true;
}

function record(ok, name, detail) {
    if (ok) { state.passed += 1; return; }
    state.failed += 1;
    state.failures.push((name || 'assertion') + (detail ? ': ' + detail : ''));
}

function show(x) { try { return JSON.stringify(x); } catch (e) { return String(x); } }

function makeT(name) {
    var t = {
        plan: function () {}, end: function () {}, comment: function () {},
        pass: function (m) { record(true, m); },
        fail: function (m) { record(false, m || name); },
        ok: function (v, m) { record(!!v, m || name, show(v)); },
        notOk: function (v, m) { record(!v, m || name, show(v)); },
        equal: function (a, b, m) { record(a === b, m || name, show(a) + ' !== ' + show(b)); },
        notEqual: function (a, b, m) { record(a !== b, m || name, show(a)); },
        deepEqual: function (a, b, m) { record(deepEqual(a, b), m || name, show(a) + ' != ' + show(b)); },
        notDeepEqual: function (a, b, m) { record(!deepEqual(a, b), m || name, show(a)); },
        throws: function (fn, expected, m) {
            var threw = false;
            try { fn(); } catch (e) { threw = true; }
            record(threw, (typeof expected === 'string' ? expected : m) || name, 'did not throw');
        },
        doesNotThrow: function (fn, m) {
            try { fn(); record(true, m); } catch (e) { record(false, m || name, String(e)); }
        },
        error: function (e, m) { record(!e, m || name, String(e)); },
        test: function (n, opts, fn) { runTest(n, opts, fn); },
        skip: function () {}
    };
    t.true = t.ok; t.assert = t.ok; t.false = t.notOk; t.notok = t.notOk;
    t.is = t.equal; t.strictEqual = t.equal; t.equals = t.equal; t.isEqual = t.equal;
    t.same = t.deepEqual; t.deepEquals = t.deepEqual; t.deepStrictEqual = t.deepEqual;
    t.isNot = t.notEqual; t.notSame = t.notDeepEqual; t.ifError = t.error; t.ifErr = t.error;
    return t;
}

function runTest(name, opts, fn) {
    if (typeof opts === 'function') { fn = opts; opts = {}; }
    if (!fn || (opts && opts.skip)) { return; }
    try { fn(makeT(name)); } catch (e) { record(false, name, 'threw ' + (e && e.stack ? e.stack.split('\n')[0] : e)); }
}

module.exports = function test(name, opts, fn) { runTest(name, opts, fn); };
module.exports.skip = function () {};
module.exports.only = module.exports;
module.exports.__state = state;
