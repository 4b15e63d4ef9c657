"""Code actions: Generate tests (run and verified in a sandbox), Fix, Write docstring, Explain,
Translate to..., Refactor with an instruction. See docs/actions.md.

    kinds      the actions as data: ids, titles, LSP code action kinds
    target     the function or class at a range (tree-sitter), or the selection
    service    Actions: offers (instant) and run (model, sandbox, edit) - the one entry point
    model      which host serves actions (model_host), chat prompts that yield to typing
    prompts    the chat prompts; every piece of code is redacted here
    answers    the code in a model's answer, checked to parse
    frameworks the project's test framework and layout, its command, its output read
    testgen    the write-run-retry loop of Generate tests
    sandbox    bubblewrap / unshare, limits, the temporary copy of the workspace
"""
